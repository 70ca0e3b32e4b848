"""Evaluation: bits per byte on held-out text, multiple-choice tasks, lm-evaluation-harness bridge."""
