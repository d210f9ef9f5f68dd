"""``submit`` for Vertex AI and Kubeflow: parameter resolution and the offline dry-run paths."""

from __future__ import annotations

import dataclasses
import json

import pytest
from kfp.client import client as kfp_client

from deploy.cli import main
from deploy.runners.kubeflow import runner as kr
from deploy.runners.kubeflow import submit_request as sr
from deploy.runners.kubeflow import vertex_submit as vs
from pipeline.config import ConfigError, load_config

IMAGE = "europe-docker.pkg.dev/proj/repo/traffic-embeddings:1"
DONOR = "gs://bucket/serving/london/1718000000"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """A warm-start Frankfurt template (with data_root) and a cold London one (without)."""
    root = tmp_path_factory.mktemp("templates")
    frankfurt = load_config("frankfurt")
    frankfurt = frankfurt.replace(
        warm_start=dataclasses.replace(frankfurt.warm_start, mode="frozen")
    )
    kr.compile_pipeline(
        frankfurt,
        kr.CompileOptions(image=IMAGE, data_root="gs://bucket/data/frankfurt",
                          warm_start_uri=DONOR),
        root / "frankfurt.json",
    )  # fmt: skip
    kr.compile_pipeline(load_config("london"), kr.CompileOptions(image=IMAGE), root / "london.json")
    return {"frankfurt": str(root / "frankfurt.json"), "london": str(root / "london.json")}


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """A machine without any ADC file (this sandbox has no metadata server either)."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


def _request(template, overrides=(), **settings):
    settings = {"project": "proj", "region": "europe-west4", **settings}
    return sr.build_request(
        settings.pop("target", "vertex"),
        template,
        settings.pop("pipeline_root", "gs://bucket/pipelines"),
        sr.parse_params(list(overrides)),
        **settings,
    )


def test_defaults_come_from_the_template_and_serving_base_from_the_submit_root(templates):
    request = _request(templates["frankfurt"])
    values = request.parameter_values
    assert request.display_name == "traffic-embeddings-frankfurt"
    assert values[kr.DATA_ROOT] == "gs://bucket/data/frankfurt"
    assert values[kr.WARM_START_URI] == DONOR
    assert values[kr.SERVING_BASE] == "gs://bucket/pipelines/serving/frankfurt"
    assert json.loads(values[kr.TRAIN_ARGS]) == {"num_steps": 2000}


def test_train_steps_and_warm_start_mode_are_folded_into_the_json_parameters(templates):
    values = _request(
        templates["frankfurt"],
        ["train_steps=500", "warm_start_mode=fine_tune", "span_begin=2026-03-20"],
    ).parameter_values
    assert json.loads(values[kr.TRAIN_ARGS]) == {"num_steps": 500}
    custom = json.loads(values[kr.TRAINER_CUSTOM_CONFIG])
    assert custom["warm_start_mode"] == "fine_tune"
    assert custom["train_steps"] == 500
    assert custom["city"] == "frankfurt"
    assert values[kr.SPAN_BEGIN] == "2026-03-20"


@pytest.mark.parametrize(
    ("template", "pairs", "message"),
    [
        ("frankfurt", ["nope=1"], r"--param nope: not a parameter .*known: data_root"),
        ("frankfurt", ["train_steps=many"], r"train_steps='many': expected a number_integer"),
        ("frankfurt", ["train_steps=0"], "must be a positive integer"),
        ("frankfurt", ["warm_start_mode=thawed"], r"'thawed' is not one of \('frozen'"),
        ("frankfurt", ["warm_start_uri="], "parameter warm_start_uri is empty"),
        ("london", ["warm_start_mode=frozen"], "compiled without a warm start"),
        ("london", [], "parameter data_root is empty"),
        ("london", ["data_root"], "expected name=value"),
    ],
)
def test_bad_parameters_fail_naming_the_parameter(templates, template, pairs, message):
    with pytest.raises(ConfigError, match=message):
        _request(templates[template], pairs)


def test_target_settings_are_required(templates):
    with pytest.raises(ConfigError, match="needs --project and --region"):
        _request(templates["frankfurt"], project="")
    with pytest.raises(ConfigError, match="needs --host"):
        _request(templates["frankfurt"], target="kubeflow")
    with pytest.raises(ConfigError, match="--pipeline-root is required"):
        _request(templates["frankfurt"], pipeline_root="")


def test_cron_is_checked_and_converted_for_kfp():
    assert sr.check_cron("0 3 * * *", "vertex") == "0 3 * * *"
    assert sr.check_cron("TZ=Europe/Berlin 0 3 * * *", "vertex") == "TZ=Europe/Berlin 0 3 * * *"
    assert sr.check_cron("0 3 * * *", "kubeflow") == "0 0 3 * * *"
    with pytest.raises(ConfigError, match="expected 5 cron fields"):
        sr.check_cron("0 3 * *", "vertex")
    with pytest.raises(ConfigError, match="Vertex only"):
        sr.check_cron("TZ=Europe/Berlin 0 3 * * *", "kubeflow")


def test_vertex_dry_run_prints_the_request_aiplatform_would_send(templates, capsys):
    code = main([
        "submit", "--target", "vertex", "--project", "proj", "--region", "europe-west4",
        "--pipeline-root", "gs://bucket/pipelines", "--template", templates["frankfurt"],
        "--param", "warm_start_uri=gs://bucket/serving/london/42", "--param", "train_steps=9",
        "--schedule", "0 3 * * *", "--dry-run",
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run: not submitting")
    decoder = json.JSONDecoder()
    body = out[out.index("{") :]
    summary, end = decoder.raw_decode(body)
    preview, _ = decoder.raw_decode(body[end:].lstrip())
    assert summary["schedule"] == "0 3 * * *"
    assert summary["template_path"] == templates["frankfurt"]
    # Built by google.cloud.aiplatform.PipelineJob itself, offline.
    job = preview["job"]
    assert preview["parent"] == "projects/proj/locations/europe-west4"
    assert job["displayName"] == "traffic-embeddings-frankfurt"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/pipelines"
    values = job["runtimeConfig"]["parameterValues"]
    assert values[kr.WARM_START_URI] == "gs://bucket/serving/london/42"
    assert json.loads(values[kr.TRAIN_ARGS]) == {"num_steps": 9}
    assert preview["schedule"]["cron"] == "0 3 * * *"


def test_vertex_without_credentials_prints_instead_of_sending(templates, no_credentials, capsys):
    assert vs.find_credentials() is None
    code = main([
        "submit", "--target", "vertex", "--project", "proj", "--region", "europe-west4",
        "--pipeline-root", "gs://bucket/pipelines", "--template", templates["frankfurt"],
    ])  # fmt: skip
    assert code == 0
    assert capsys.readouterr().out.startswith("no Google credentials")


def test_submit_compiles_from_city_arguments_when_no_template(no_credentials, capsys):
    code = main([
        "submit", "--target", "vertex", "--project", "proj", "--region", "europe-west4",
        "--pipeline-root", "gs://bucket/pipelines", "--city", "london", "--image", IMAGE,
        "--data-root", "gs://bucket/data/london", "--dry-run",
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "compiled traffic-embeddings-london for vertex" in out
    assert '"data_root": "gs://bucket/data/london"' in out


def test_kubeflow_dry_run_prints_the_run_and_schedule(templates, capsys):
    code = main([
        "submit", "--target", "kubeflow", "--host", "http://localhost:8888",
        "--pipeline-root", "minio://mlpipeline/v2", "--template", templates["frankfurt"],
        "--experiment", "traffic", "--schedule", "30 2 * * 1", "--dry-run",
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert '"cron_expression": "0 30 2 * * 1"' in out
    assert '"host": "http://localhost:8888"' in out
    assert '"serving_base": "minio://mlpipeline/v2/serving/frankfurt"' in out


def test_kfp_reads_the_converted_package(templates, tmp_path):
    package = vs._as_kfp_package(templates["frankfurt"], str(tmp_path))
    doc = kfp_client._extract_pipeline_yaml(package)  # kfp.Client's own reader
    assert doc.pipeline_spec.pipeline_info.name == "traffic-embeddings-frankfurt"
    assert kr.WARM_START_URI in doc.pipeline_spec.root.input_definitions.parameters


def test_cli_errors_are_one_line(templates, tmp_path, capsys):
    code = main([
        "submit", "--target", "vertex", "--project", "proj", "--region", "r",
        "--pipeline-root", "gs://b", "--template", str(tmp_path / "missing.json"),
    ])  # fmt: skip
    assert code == 2
    assert "--template" in capsys.readouterr().err
    code = main(["submit", "--pipeline-root", "gs://b", "--project", "p", "--region", "r"])
    assert code == 2
    assert "pass --template FILE or the compile arguments" in capsys.readouterr().err
