"""Scoring labelled Recordings: the label bank (zero-shot text or taught examples), k-shot prototypes and a linear
probe on the same windows, each with a 95 % interval (``edgebind eval``)."""

from edgebind.eval.report import EvalReport, MethodResult
from edgebind.eval.run import evaluate

__all__ = ["EvalReport", "MethodResult", "evaluate"]
