"""Signal timing plans from the model's per-approach predictions (``traffic-pipeline advise``).

- ``webster``: one signal's Webster timing for one band of hours (pure arithmetic);
- ``phases``: a SUMO network's signals, their green phases and the approaches they serve;
- ``bands``: the 168 local day-hour cells grouped into plan bands (contiguous, capped per day);
- ``writer``: the SUMO additional file (``tlLogic`` + ``WAUT``) and ``plans.csv``;
- ``api``: ``plans_from_rates`` and ``SignalPlans``, the entry point the benchmark calls;
- ``advise``/``page``: the command and its HTML page (its parser: ``deploy.cli.advise``).
"""
