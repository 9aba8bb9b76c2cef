"""Writes of the scoring side."""
