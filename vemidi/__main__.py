"""``python -m vemidi`` runs the command-line interface."""

from vemidi.cli import main

raise SystemExit(main())
