"""Symbolic music: tokenizer, transformer, sampling, MIDI writing, corpus and training."""
