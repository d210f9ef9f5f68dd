"""Sends a ``SubmitRequest`` to Vertex AI Pipelines or a Kubeflow Pipelines 2.x host.

``submit`` sends it with ``google.cloud.aiplatform.PipelineJob`` (``create_schedule`` for
a cron schedule) or ``kfp.Client``; with ``dry_run``, or when no Google credentials are
available, it only prints the request. Credential lookup never waits on a metadata
server: it needs an ADC file (``GOOGLE_APPLICATION_CREDENTIALS`` or gcloud's) or a Google
Compute Engine VM. Requests are built offline by ``deploy.runners.kubeflow.submit_request``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import yaml

from deploy.runners.kubeflow import runner as kr
from deploy.runners.kubeflow.submit_request import SubmitRequest, check_cron


def find_credentials() -> Any | None:
    """Google credentials if available without a network wait, else None."""
    adc_files = [
        os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", ""),
        os.path.join(
            os.environ.get("CLOUDSDK_CONFIG", os.path.expanduser("~/.config/gcloud")),
            "application_default_credentials.json",
        ),
    ]
    if not any(p and os.path.isfile(p) for p in adc_files) and not _on_gce():
        return None
    import google.auth
    from google.auth import exceptions

    try:
        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except exceptions.GoogleAuthError:
        return None
    return credentials


def _on_gce() -> bool:
    """True on a Google Compute Engine VM (read from DMI, no network)."""
    try:
        return Path("/sys/class/dmi/id/product_name").read_text().strip().startswith("Google")
    except OSError:
        return False


def submit(request: SubmitRequest, *, dry_run: bool = False, out: TextIO | None = None) -> int:
    """Sends ``request`` (or prints it on dry run / without credentials); returns 0 on success.

    The printed request is also built by the real client offline (Vertex: an
    ``aiplatform.PipelineJob`` with anonymous credentials; KFP: the PipelineSpec it would
    upload), so a template/parameter mismatch fails here, not in the cloud.
    """
    out = out or sys.stdout
    reason = "dry run" if dry_run else ""
    credentials = None
    if not dry_run and request.target == "vertex":
        credentials = find_credentials()
        if credentials is None:
            reason = (
                "no Google credentials (set GOOGLE_APPLICATION_CREDENTIALS or run "
                "'gcloud auth application-default login')"
            )
    if reason:
        preview = vertex_preview(request) if request.target == "vertex" else kfp_preview(request)
        print(f"{reason}: not submitting; the request would be:", file=out)
        print(request.describe(), file=out)
        print(json.dumps(preview, indent=2, sort_keys=True), file=out)
        return 0
    if request.target == "vertex":
        return _submit_vertex(request, credentials, out)
    return _submit_kfp(request, out)


def _vertex_job(request: SubmitRequest, credentials: Any) -> Any:
    from google.cloud import aiplatform

    return aiplatform.PipelineJob(
        display_name=request.display_name,
        template_path=request.template_path,
        pipeline_root=request.pipeline_root,
        parameter_values=request.parameter_values,
        enable_caching=request.enable_caching,
        project=request.project,
        location=request.region,
        credentials=credentials,
    )


def vertex_preview(request: SubmitRequest) -> dict[str, Any]:
    """The PipelineJob body ``aiplatform`` would send (built offline), minus the spec."""
    from google.auth.credentials import AnonymousCredentials

    job = _vertex_job(request, AnonymousCredentials())
    body = job.to_dict()
    body.pop("pipelineSpec", None)
    preview = {"parent": f"projects/{request.project}/locations/{request.region}", "job": body}
    if request.schedule:
        preview["schedule"] = {"cron": request.schedule, "display_name": request.display_name}
    return preview


def kfp_preview(request: SubmitRequest) -> dict[str, Any]:
    """What ``kfp.Client`` would send: run or recurring run, with the spec checked."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(kr.load_template(request.template_path), spec)
    preview: dict[str, Any] = {
        "host": request.host,
        "experiment": request.experiment or "Default",
        "pipeline": spec.pipeline_info.name,
        "runtime_config": {
            "pipeline_root": request.pipeline_root,
            "parameters": request.parameter_values,
        },
    }
    if request.schedule:
        preview["cron_expression"] = check_cron(request.schedule, request.target)
    return preview


def _submit_vertex(request: SubmitRequest, credentials: Any, out: TextIO) -> int:
    job = _vertex_job(request, credentials)
    if request.schedule:
        schedule = job.create_schedule(
            cron=request.schedule,
            display_name=request.display_name,
            service_account=request.service_account or None,
        )
        print(f"created schedule {schedule.resource_name} ({request.schedule})", file=out)
    else:
        job.submit(service_account=request.service_account or None)
        print(f"submitted {job.resource_name}", file=out)
    return 0


def _submit_kfp(request: SubmitRequest, out: TextIO) -> int:
    import kfp

    client = kfp.Client(host=request.host)
    with tempfile.TemporaryDirectory() as scratch:
        package = _as_kfp_package(request.template_path, scratch)
        if request.schedule:
            experiment = client.create_experiment(request.experiment or "Default")
            run = client.create_recurring_run(
                experiment_id=experiment.experiment_id,
                job_name=request.display_name,
                cron_expression=check_cron(request.schedule, request.target),
                params=request.parameter_values,
                pipeline_package_path=package,
                pipeline_root=request.pipeline_root,
                enable_caching=request.enable_caching,
                service_account=request.service_account or None,
            )
            print(f"created recurring run {run.recurring_run_id} ({request.schedule})", file=out)
        else:
            run = client.create_run_from_pipeline_package(
                package,
                arguments=request.parameter_values,
                run_name=request.display_name,
                experiment_name=request.experiment or None,
                pipeline_root=request.pipeline_root,
                enable_caching=request.enable_caching,
                service_account=request.service_account or None,
            )
            print(f"submitted run {run.run_id}", file=out)
    return 0


def _as_kfp_package(template_path: str, scratch: str) -> str:
    """kfp.Client reads a PipelineSpec YAML; a compiled .json job is converted."""
    if template_path.endswith((".yaml", ".yml")):
        return template_path
    package = os.path.join(scratch, "pipeline.yaml")
    Path(package).write_text(yaml.safe_dump(kr.load_template(template_path), sort_keys=True))
    return package
