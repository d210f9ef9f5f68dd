"""FastEvaluator: the stock Evaluator's interface and artifacts, metrics computed in memory."""
