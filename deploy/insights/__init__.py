"""See and use what a pushed model learned: ``explain`` (a report) and ``predict``."""

from deploy.insights.explainer import explain
from deploy.insights.model_files import ModelError
from deploy.insights.predictions import predict

__all__ = ["ModelError", "explain", "predict"]
