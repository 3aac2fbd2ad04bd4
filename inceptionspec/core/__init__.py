"""Shared by every stage: located errors, the work budget, names."""
