"""See and use what a pushed model learned: ``explain`` (deploy.insights.explainer, a
report) and ``predict`` (deploy.insights.predictions).

Nothing is imported here: the CLI registers ``explain``/``predict`` on every command, and
``traffic-pipeline lineage`` must not pay for TensorFlow.
"""
