"""generator package."""
