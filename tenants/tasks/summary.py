"""Tasks: summary."""
