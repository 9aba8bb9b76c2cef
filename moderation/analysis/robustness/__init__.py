"""Robustness of a keyword set against evasions, and its false hits on benign text."""

from moderation.analysis.robustness.operators import OPERATORS, Operator, combinations
from moderation.analysis.robustness.report import robustness_report

__all__ = ["OPERATORS", "Operator", "combinations", "robustness_report"]
