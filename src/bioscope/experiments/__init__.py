"""Re-runs of the papers' experiments."""
