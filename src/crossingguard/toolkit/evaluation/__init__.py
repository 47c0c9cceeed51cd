"""Evaluation: metrics (numpy only) and NLI dev-set evaluation."""
