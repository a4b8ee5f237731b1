"""Video emotion: per-modality Ekman analyzers, late fusion and the Ekman -> valence/arousal map."""
