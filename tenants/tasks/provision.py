"""Tasks: provision."""
