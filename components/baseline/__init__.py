"""Baseline resolution for the Evaluator: the last blessed model other than the candidate."""
