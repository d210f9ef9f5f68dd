"""A submit request: a compiled template plus ``name=value`` overrides, validated offline.

``build_request`` returns a ``SubmitRequest`` (parameter values typed and checked against
the template, target settings and cron schedule checked); no network.
``deploy.runners.kubeflow.vertex_submit`` sends it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from deploy.runners.kubeflow import runner as kr
from pipeline.config import WARM_START_MODES, ConfigError

_INT_TYPES = ("NUMBER_INTEGER", "INT")
_FLOAT_TYPES = ("NUMBER_DOUBLE", "DOUBLE")


@dataclass(frozen=True)
class SubmitRequest:
    """What would be sent: one run (or a schedule) of a compiled template."""

    target: str
    display_name: str
    template_path: str
    pipeline_root: str
    parameter_values: dict[str, Any]
    schedule: str = ""  # cron, 5 fields (+ optional TZ= on Vertex); 6 fields for KFP
    project: str = ""
    region: str = ""
    host: str = ""
    experiment: str = ""
    service_account: str = ""
    enable_caching: bool | None = None

    def describe(self) -> str:
        """The request as indented JSON (what ``--dry-run`` prints)."""
        return json.dumps(
            {k: v for k, v in asdict(self).items() if v not in ("", None, {})},
            indent=2,
            sort_keys=True,
        )


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``; a pair without '=' is an error."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {pair!r}: expected name=value")
        result[name.strip()] = value
    return result


def resolve_parameters(
    spec: Mapping[str, Any], overrides: Mapping[str, str], pipeline_root: str
) -> dict[str, Any]:
    """All parameter values for one run: the template's defaults plus ``overrides``.

    ``train_steps`` and ``warm_start_mode`` are folded into the ``train_args`` and
    ``trainer_custom_config`` JSON parameters. Unknown names, bad values and a missing
    ``data_root`` / ``warm_start_uri`` are errors naming the parameter.
    """
    definitions = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    values = {n: d.get("defaultValue", "") for n, d in definitions.items()}
    overrides = dict(overrides)
    steps = overrides.pop(kr.TRAIN_STEPS, None)
    mode = overrides.pop(kr.WARM_START_MODE, None)
    for name, raw in overrides.items():
        if name not in definitions:
            known = sorted(
                [*definitions, kr.TRAIN_STEPS]
                + ([kr.WARM_START_MODE] if kr.TRAINER_CUSTOM_CONFIG in definitions else [])
            )
            raise ConfigError(
                f"--param {name}: not a parameter of this pipeline (known: {', '.join(known)})"
            )
        values[name] = _typed(name, raw, definitions[name])
    if steps is not None:
        train_args = _json_param(values, kr.TRAIN_ARGS)
        train_args["num_steps"] = _typed(kr.TRAIN_STEPS, steps, {"parameterType": "NUMBER_INTEGER"})
        if train_args["num_steps"] < 1:
            raise ConfigError(f"--param {kr.TRAIN_STEPS}={steps}: must be a positive integer")
        values[kr.TRAIN_ARGS] = json.dumps(train_args, sort_keys=True)
        if kr.TRAINER_CUSTOM_CONFIG in values:  # keep the recorded hyperparameters in step
            custom = _json_param(values, kr.TRAINER_CUSTOM_CONFIG)
            custom[kr.TRAIN_STEPS] = train_args["num_steps"]
            values[kr.TRAINER_CUSTOM_CONFIG] = json.dumps(custom, sort_keys=True)
    if mode is not None:
        if kr.TRAINER_CUSTOM_CONFIG not in definitions:
            raise ConfigError(
                f"--param {kr.WARM_START_MODE}: this pipeline was compiled without "
                "a warm start; recompile with --warm-start-mode"
            )
        custom = _json_param(values, kr.TRAINER_CUSTOM_CONFIG)
        custom[kr.WARM_START_MODE] = mode
        values[kr.TRAINER_CUSTOM_CONFIG] = json.dumps(custom, sort_keys=True)
    if kr.TRAINER_CUSTOM_CONFIG in values:
        mode = _json_param(values, kr.TRAINER_CUSTOM_CONFIG).get(kr.WARM_START_MODE)
        if mode not in WARM_START_MODES:
            raise ConfigError(f"{kr.WARM_START_MODE}: {mode!r} is not one of {WARM_START_MODES}")
    if kr.SERVING_BASE in values and not values[kr.SERVING_BASE]:
        values[kr.SERVING_BASE] = kr.default_serving_base(pipeline_root, _city(spec))
    for required in (kr.DATA_ROOT, kr.WARM_START_URI, kr.SERVING_BASE):
        if required in values and not values[required]:
            raise ConfigError(f"parameter {required} is empty: pass --param {required}=gs://...")
    return values


def _city(spec: Mapping[str, Any]) -> str:
    from pipeline.pipeline import pipeline_name

    return spec["pipelineInfo"]["name"].removeprefix(pipeline_name(""))


def _typed(name: str, raw: str, definition: Mapping[str, Any]) -> Any:
    kind = definition.get("parameterType") or definition.get("type", "STRING")
    try:
        if kind in _INT_TYPES:
            return int(raw)
        if kind in _FLOAT_TYPES:
            return float(raw)
    except ValueError as err:
        raise ConfigError(f"--param {name}={raw!r}: expected a {kind.lower()}") from err
    return raw


def _json_param(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    try:
        parsed = json.loads(values.get(name) or "{}")
    except json.JSONDecodeError as err:
        raise ConfigError(f"parameter {name}: not valid JSON: {err}") from err
    if not isinstance(parsed, dict):
        raise ConfigError(f"parameter {name}: expected a JSON object")
    return parsed


def build_request(
    target: str,
    template_path: str,
    pipeline_root: str,
    overrides: Mapping[str, str] | None = None,
    **settings: Any,
) -> SubmitRequest:
    """Validates the template and parameters into a ``SubmitRequest``; no network."""
    if target not in kr.TARGETS:
        raise ConfigError(f"--target {target!r} is not one of {kr.TARGETS}")
    if not pipeline_root:
        raise ConfigError("--pipeline-root is required (e.g. gs://BUCKET/pipelines)")
    if target == "vertex" and not (settings.get("project") and settings.get("region")):
        raise ConfigError("--target vertex needs --project and --region")
    if target == "kubeflow" and not settings.get("host"):
        raise ConfigError("--target kubeflow needs --host (the KFP API endpoint URL)")
    spec = kr.load_template(template_path)
    values = resolve_parameters(spec, overrides or {}, pipeline_root)
    display_name = settings.pop("display_name", "") or spec["pipelineInfo"]["name"]
    if settings.get("schedule"):
        check_cron(settings["schedule"], target)
    return SubmitRequest(
        target=target,
        display_name=display_name,
        template_path=str(template_path),
        pipeline_root=pipeline_root,
        parameter_values=values,
        **settings,
    )


def check_cron(cron: str, target: str) -> str:
    """Validates a 5-field cron; returns it in the target's form (KFP: 6 fields, seconds first).

    Vertex also accepts a ``TZ=Area/City `` prefix; KFP schedules run in UTC.
    """
    fields = cron.split()
    if fields and fields[0].startswith(("TZ=", "CRON_TZ=")):
        if target != "vertex":
            raise ConfigError(f"--schedule {cron!r}: a time zone prefix works on Vertex only")
        fields = fields[1:]
    if len(fields) != 5:
        raise ConfigError(f"--schedule {cron!r}: expected 5 cron fields, e.g. '0 3 * * *'")
    return cron if target == "vertex" else "0 " + " ".join(fields)
