"""`make bench`: golive's speed and size targets measured next to their baselines (python -m bench)."""
