"""Evaluations that are more than a Keras metric (word-vector benchmarks, …)."""
