"""Tasks: training."""
