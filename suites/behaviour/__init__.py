"""Behaviour suites: the password status model and its transitions, operation by operation."""
