"""Audio after synthesis: loudness to a LUFS target with a true-peak ceiling, dialogue-aware
mixing (the music ducks under speech) and per-instrument stems."""
