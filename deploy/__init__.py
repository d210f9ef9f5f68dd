"""The edge: everything that runs the pipeline or feeds and reads it, split by job.

- ``cli``: every argparse module, the ``traffic-pipeline`` entry point;
- ``runners``: ``local`` (LocalDagRunner, output layout, progress, run summary) and
  ``kubeflow`` (compile for Kubeflow v2 / Vertex AI, submit), plus the Beam profiles;
- ``insights``: ``explain``/``predict`` on a pushed model; ``signal_plans``: ``advise``;
- ``mlmd``: ML Metadata access and lineage queries;
- ``datasets``: the synthetic generator, the importers, the SUMO simulation and the
  atomic output writer they share;
- ``exit_codes``: the exit-code contract and error types every package raises.

Arrows point inward only (``cli`` -> ``signal_plans`` -> ``insights`` -> ``runners`` ->
``mlmd``/``datasets`` -> ``exit_codes``); ``tests/test_layering.py`` checks them.
"""
