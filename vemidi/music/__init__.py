"""Symbolic music for composing: tokenizer, transformer, plan, sampling rules, generation, MIDI."""
