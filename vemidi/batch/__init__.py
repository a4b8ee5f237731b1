"""Scoring many videos: jobs from files, folders, globs or a manifest (:mod:`.jobs`), run here
in one or several processes (:mod:`.local`) or on a Ray cluster (:mod:`.on_ray`), each video
scored by the same code (:mod:`.score`) into its own folder, with a results manifest
(:mod:`.results`)."""
