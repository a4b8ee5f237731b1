"""Reading videos: probing, frames, the audio track and scene cuts (PyAV's bundled FFmpeg)."""
