"""Tasks: archive."""
