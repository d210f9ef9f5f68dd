"""The Kubeflow v2 / Vertex compile: real KubeflowV2DagRunner output, parsed strictly."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.proto import trainer_pb2
from tfx.utils import json_utils, proto_utils

from deploy.runners.kubeflow import runner as kr
from pipeline import pipeline as wiring
from pipeline.config import BeamConfig, load_config
from pipeline.schema import curated_schema_path, schema_file_in
from transforms import features

IMAGE = "europe-docker.pkg.dev/proj/repo/traffic-embeddings:1"
DONOR = "gs://bucket/serving/london/1718000000"


def _frankfurt_warm():
    config = load_config("frankfurt")
    return config.replace(warm_start=dataclasses.replace(config.warm_start, mode="frozen"))


def _compile(tmp_path, config, name="pipeline.json", **options):
    options = {"image": IMAGE, **options}
    out = tmp_path / name
    job = kr.compile_pipeline(config, kr.CompileOptions(**options), out)
    return job, out


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """Frankfurt on Vertex, warm-started (frozen) from a London model; gs:// paths."""
    job, out = _compile(
        tmp_path_factory.mktemp("warm"),
        _frankfurt_warm(),
        target="vertex",
        pipeline_root="gs://bucket/pipelines",
        data_root="gs://bucket/data/frankfurt",
        warm_start_uri=DONOR,
        donor_city="london",
    )
    return job, out


def _tasks(job):
    return job["pipelineSpec"]["root"]["dag"]["tasks"]


def _executors(job):
    return job["pipelineSpec"]["deploymentSpec"]["executors"]


def test_written_file_is_a_strict_pipeline_job_and_pipeline_spec(warm):
    job, out = warm
    text = out.read_text()
    parsed = json_format.Parse(text, pipeline_spec_pb2.PipelineJob(), ignore_unknown_fields=False)
    assert parsed.display_name == wiring.pipeline_name("frankfurt")
    spec = json_format.ParseDict(json.loads(text)["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    assert spec.schema_version == "2.1.0"
    assert spec.pipeline_info.name == "traffic-embeddings-frankfurt"
    deployment = json_format.ParseDict(
        job["pipelineSpec"]["deploymentSpec"], pipeline_spec_pb2.PipelineDeploymentConfig()
    )
    assert set(deployment.executors) == {f"{name}_executor" for name in _tasks(job)}


def test_task_names_are_the_stable_component_ids(warm):
    job, _ = warm
    resolver = wiring.BASELINE_RESOLVER
    assert set(_tasks(job)) == {
        wiring.EXAMPLE_GEN,
        wiring.STATISTICS_GEN,
        wiring.SCHEMA_GEN,
        wiring.EXAMPLE_VALIDATOR,
        wiring.TRANSFORM,
        wiring.WARM_START_IMPORTER,
        wiring.TRAINER,
        wiring.EVALUATOR,
        wiring.PUSHER,
        f"{resolver}-model-resolver",  # KubeflowV2 splits the resolver in two queries
        f"{resolver}-model-blessing-resolver",
    }


@pytest.mark.parametrize(
    ("task", "upstream"),
    [
        (wiring.STATISTICS_GEN, wiring.EXAMPLE_GEN),
        (wiring.EXAMPLE_VALIDATOR, wiring.SCHEMA_GEN),
        (wiring.TRANSFORM, wiring.EXAMPLE_VALIDATOR),
        (wiring.TRAINER, wiring.TRANSFORM),
        (wiring.TRAINER, wiring.WARM_START_IMPORTER),
        (wiring.EVALUATOR, wiring.TRAINER),
        (wiring.EVALUATOR, f"{wiring.BASELINE_RESOLVER}-model-resolver"),
        (wiring.PUSHER, wiring.EVALUATOR),
    ],
)
def test_dependencies(warm, task, upstream):
    job, _ = warm
    assert upstream in _tasks(job)[task]["dependentTasks"]


def test_every_container_runs_the_configured_image(warm):
    job, _ = warm
    containers = {k: v["container"] for k, v in _executors(job).items() if "container" in v}
    assert len(containers) == 8  # every component; importer and resolvers run in the backend
    assert {c["image"] for c in containers.values()} == {IMAGE}
    for container in containers.values():
        assert container["command"][:2] == ["python", "-m"]


def test_runtime_parameters_have_names_defaults_and_types(warm):
    job, _ = warm
    definitions = job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    defaults = {name: d["defaultValue"] for name, d in definitions.items()}
    custom_config = json.loads(defaults.pop(kr.TRAINER_CUSTOM_CONFIG))
    assert defaults == {
        kr.DATA_ROOT: "gs://bucket/data/frankfurt",
        kr.SPAN_BEGIN: "",
        kr.SPAN_END: "",
        kr.TRAIN_ARGS: json.dumps({"num_steps": 2000}),
        kr.SERVING_BASE: "gs://bucket/pipelines/serving/frankfurt",
        kr.WARM_START_URI: DONOR,
    }
    assert custom_config == _frankfurt_warm().trainer_custom_config()
    assert {d["parameterType"] for d in definitions.values()} == {"STRING"}
    assert all(d["description"] for d in definitions.values())
    # The job's runtimeConfig carries the same defaults (Vertex reads these).
    runtime = job["runtimeConfig"]
    assert runtime["parameterValues"] == {n: d["defaultValue"] for n, d in definitions.items()}
    assert runtime["gcsOutputDirectory"] == "gs://bucket/pipelines"
    assert job["pipelineSpec"]["defaultPipelineRoot"] == "gs://bucket/pipelines"


def test_parameters_feed_the_example_gen_trainer_and_pusher(warm):
    job, _ = warm
    tasks = _tasks(job)

    def wired(task):
        params = tasks[task]["inputs"]["parameters"]
        return {
            k: v["componentInputParameter"]
            for k, v in params.items()
            if "componentInputParameter" in v
        }

    assert wired(wiring.EXAMPLE_GEN) == {
        "input_base": kr.DATA_ROOT,
        "span_begin": kr.SPAN_BEGIN,
        "span_end": kr.SPAN_END,
    }
    assert wired(wiring.TRAINER) == {
        "train_args": kr.TRAIN_ARGS,
        "custom_config": kr.TRAINER_CUSTOM_CONFIG,
    }
    assert wired(wiring.PUSHER) == {"serving_base": kr.SERVING_BASE}


def test_warm_start_uri_reaches_the_importer_artifact_uri(warm):
    job, _ = warm
    importer_task = _tasks(job)[wiring.WARM_START_IMPORTER]
    # The importer's artifact_uri input is the pipeline's warm_start_uri parameter ...
    assert importer_task["inputs"]["parameters"]["artifact_uri"] == {
        "componentInputParameter": kr.WARM_START_URI
    }
    # ... and the importer spec takes its artifact uri from that input.
    importer = _executors(job)[f"{wiring.WARM_START_IMPORTER}_executor"]["importer"]
    assert importer["artifactUri"] == {"runtimeParameter": "artifact_uri"}
    assert importer["typeSchema"]["instanceSchema"].startswith("title: tfx.Model")
    assert importer["metadata"]["donor_city"] == "london"


def test_trainer_parses_the_parameter_values_the_way_the_container_will(warm):
    """Vertex hands STRING values to TFX's entrypoint; the Trainer's parsing must accept them."""
    job, _ = warm
    from google.protobuf import struct_pb2

    inputs_spec = json_format.ParseDict(
        job["pipelineSpec"]["components"][wiring.TRAINER]["inputDefinitions"],
        pipeline_spec_pb2.ComponentInputsSpec(),
    )
    custom = json.loads(job["runtimeConfig"]["parameterValues"][kr.TRAINER_CUSTOM_CONFIG])
    custom["warm_start_mode"] = "fine_tune"
    sent = {
        "train_args": struct_pb2.Value(string_value=json.dumps({"num_steps": 7})),
        "custom_config": struct_pb2.Value(string_value=json.dumps(custom)),
    }
    props = kubeflow_v2_entrypoint_utils.parse_execution_properties(sent, {}, inputs_spec)
    train_args = trainer_pb2.TrainArgs()
    proto_utils.json_to_proto(props["train_args"], train_args)
    assert train_args.num_steps == 7
    assert json_utils.loads(props["custom_config"])["warm_start_mode"] == "fine_tune"


def test_curated_schema_is_read_from_inside_the_image(warm):
    job, _ = warm
    schema_file = _tasks(job)[wiring.SCHEMA_GEN]["inputs"]["parameters"]["schema_file"]
    in_image = schema_file_in(kr.CONTAINER_SCHEMA_DIR, features.DATA_KIND_EVENTS)
    assert schema_file["runtimeValue"]["constant"] == in_image
    # The container path is the package's own schema file, relative to the source root.
    relative = in_image.removeprefix(kr.CONTAINER_SOURCE_DIR + "/")
    assert curated_schema_path().endswith(relative)


def test_modules_are_import_paths_not_uploaded_files(warm):
    job, _ = warm
    tasks = _tasks(job)
    transform = tasks[wiring.TRANSFORM]["inputs"]["parameters"]
    trainer = tasks[wiring.TRAINER]["inputs"]["parameters"]
    assert transform["preprocessing_fn"]["runtimeValue"]["constant"] == wiring.PREPROCESSING_FN
    assert trainer["run_fn"]["runtimeValue"]["constant"] == wiring.RUN_FN
    assert "module_file" not in transform and "module_file" not in trainer
    assert "module_path" not in trainer


def test_cold_start_has_no_importer_and_no_warm_start_parameters(tmp_path):
    job, _ = _compile(tmp_path, load_config("london"), train_steps=123, target="kubeflow")
    assert wiring.WARM_START_IMPORTER not in _tasks(job)
    definitions = job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    assert set(definitions) == {
        kr.DATA_ROOT,
        kr.SPAN_BEGIN,
        kr.SPAN_END,
        kr.TRAIN_ARGS,
        kr.SERVING_BASE,
    }
    assert definitions[kr.TRAIN_ARGS]["defaultValue"] == json.dumps({"num_steps": 123})
    assert definitions[kr.SERVING_BASE]["defaultValue"] == ""  # no root: submit fills it
    assert "defaultPipelineRoot" not in job["pipelineSpec"]


def test_yaml_output_is_the_bare_pipeline_spec_kfp_reads(tmp_path):
    _, out = _compile(tmp_path, _frankfurt_warm(), name="pipeline.yaml", warm_start_uri=DONOR)
    spec = json_format.ParseDict(yaml.safe_load(out.read_text()), pipeline_spec_pb2.PipelineSpec())
    params = spec.root.input_definitions.parameters
    assert params[kr.WARM_START_URI].default_value.string_value == DONOR
    assert json.loads(params[kr.TRAIN_ARGS].default_value.string_value) == {"num_steps": 2000}


@pytest.mark.parametrize(
    ("beam", "expected"),
    [
        (
            BeamConfig(profile="direct"),
            ["--runner=DirectRunner", "--direct_num_workers=0",
             "--direct_running_mode=multi_processing"],
        ),
        (
            BeamConfig(profile="direct", direct_num_workers=3),
            ["--runner=DirectRunner", "--direct_num_workers=3",
             "--direct_running_mode=multi_processing"],
        ),
        (
            BeamConfig(profile="dataflow", project="proj", region="europe-west4",
                       temp_location="gs://bucket/tmp", max_num_workers=25),
            ["--runner=DataflowRunner", "--project=proj", "--region=europe-west4",
             "--temp_location=gs://bucket/tmp", "--autoscaling_algorithm=THROUGHPUT_BASED",
             "--max_num_workers=25", "--experiments=use_runner_v2",
             f"--sdk_container_image={IMAGE}"],
        ),
        (
            BeamConfig(profile="flink", job_endpoint="flink-jobserver:8099"),
            ["--runner=PortableRunner", "--job_endpoint=flink-jobserver:8099",
             "--environment_type=DOCKER", f"--environment_config={IMAGE}"],
        ),
        (
            BeamConfig(profile="spark", job_endpoint="spark-jobserver:8099"),
            ["--runner=PortableRunner", "--job_endpoint=spark-jobserver:8099",
             "--environment_type=DOCKER", f"--environment_config={IMAGE}"],
        ),
    ],
    ids=["direct", "direct-3", "dataflow", "flink", "spark"],
)  # fmt: skip
def test_each_beam_profile_reaches_every_beam_component(tmp_path, beam, expected):
    config = load_config("london").replace(beam=beam)
    job, _ = _compile(tmp_path, config)
    executors = _executors(job)
    for component in (wiring.EXAMPLE_GEN, wiring.STATISTICS_GEN, wiring.TRANSFORM,
                      wiring.EVALUATOR):  # fmt: skip
        args = executors[f"{component}_executor"]["container"]["args"]
        assert args[-len(expected) :] == expected, component


def test_beam_profile_override_and_bad_inputs_fail_clearly(tmp_path):
    config = kr.with_overrides(load_config("london"), profile="flink", job_endpoint="host:8099")
    assert config.beam.profile == "flink" and config.beam.job_endpoint == "host:8099"
    with pytest.raises(ValueError, match=r"needs beam\.project"):
        _compile(tmp_path, kr.with_overrides(load_config("london"), profile="dataflow"))
    with pytest.raises(ValueError, match=r"must end with \.json, \.yaml or \.yml"):
        _compile(tmp_path, load_config("london"), name="pipeline.txt")
    with pytest.raises(ValueError, match="image is required"):
        _compile(tmp_path, load_config("london"), image="")


def test_cli_compile_writes_the_spec(tmp_path, capsys):
    from deploy.cli import main

    out = tmp_path / "frankfurt.json"
    code = main([
        "compile", "--target", "vertex", "--city", "frankfurt", "--image", IMAGE,
        "--pipeline-root", "gs://bucket/pipelines", "--data-root", "gs://bucket/data/frankfurt",
        "--warm-start-mode", "fine_tune", "--warm-start-uri", DONOR,
        "--beam-profile", "flink", "--beam-job-endpoint", "jobserver:8099",
        "--output", str(out),
    ])  # fmt: skip
    assert code == 0
    assert "compiled traffic-embeddings-frankfurt for vertex" in capsys.readouterr().out
    job = json.loads(out.read_text())
    custom = json.loads(job["runtimeConfig"]["parameterValues"][kr.TRAINER_CUSTOM_CONFIG])
    assert custom["warm_start_mode"] == "fine_tune"
    args = _executors(job)[f"{wiring.TRANSFORM}_executor"]["container"]["args"]
    assert "--job_endpoint=jobserver:8099" in args


def test_cli_compile_reports_bad_config_in_one_line(tmp_path, capsys):
    from deploy.cli import main

    code = main(["compile", "--city", "atlantis", "--output", str(tmp_path / "p.json")])
    assert code == 2
    assert "no built-in config for city 'atlantis'" in capsys.readouterr().err


def test_custom_artifact_types_resolve_to_classes_in_the_container(warm):
    """KubeflowV2 re-imports a custom artifact class from its schema title at run time."""
    from tfx.orchestration.kubeflow.v2 import compiler_utils
    from tfx.utils import import_utils

    job, _ = warm
    titles = set()
    for component in job["pipelineSpec"]["components"].values():
        for side in ("inputDefinitions", "outputDefinitions"):
            for spec in component.get(side, {}).get("artifacts", {}).values():
                titles.add(yaml.safe_load(spec["artifactType"]["instanceSchema"])["title"])
    custom = titles - set(compiler_utils.TITLE_TO_CLASS_PATH)
    assert custom, "the pipeline has a custom artifact type (TrafficRejects)"
    for title in custom:
        assert title == import_utils.import_class_by_path(title).TYPE_NAME


def _window_config(city="london", days=28):
    config = load_config(city)
    return config.replace(data=dataclasses.replace(config.data, window_days=days))


def test_a_windowed_schedule_carries_no_date_and_example_gen_is_never_cached(tmp_path):
    import re

    job, _ = _compile(
        tmp_path,
        _window_config(),
        target="vertex",
        pipeline_root="gs://bucket/pipelines",
        data_root="gs://bucket/data/london",
    )
    text = json.dumps(job)
    assert re.findall(r"\d{4}-\d\d-\d\d", text) == []  # the window is resolved at run time
    params = job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    assert params[kr.WINDOW_DAYS] == {
        "defaultValue": 28,
        "description": kr._DESCRIPTIONS[kr.WINDOW_DAYS],
        "parameterType": "NUMBER_INTEGER",
    }
    assert params[kr.AS_OF]["defaultValue"] == ""
    assert kr.SPAN_BEGIN not in params and kr.SPAN_END not in params
    example_gen = _tasks(job)[wiring.EXAMPLE_GEN]
    inputs = example_gen["inputs"]["parameters"]
    assert inputs["window_days"] == {"componentInputParameter": kr.WINDOW_DAYS}
    assert inputs["as_of"] == {"componentInputParameter": kr.AS_OF}
    # The day cache lives under the pipeline root (GCS on Vertex), per city.
    day_cache = f"gs://bucket/pipelines/day_cache/{wiring.pipeline_name('london')}"
    assert inputs["day_cache"] == {"runtimeValue": {"constant": day_cache}}
    statistics = _tasks(job)[wiring.STATISTICS_GEN]["inputs"]["parameters"]
    assert statistics["accumulator_cache"] == {
        "runtimeValue": {"constant": f"{day_cache}/statistics"}
    }
    assert "cachingOptions" not in example_gen  # parameters never change: never cached
    assert _tasks(job)[wiring.TRAINER]["cachingOptions"] == {"enableCache": True}


def test_a_window_and_a_span_exclude_each_other_at_compile(tmp_path):
    from pipeline.config import ConfigError

    with pytest.raises(ConfigError, match="exclude each other"):
        _compile(tmp_path, _window_config(), span_begin="2026-03-01")


@pytest.mark.parametrize("target", kr.TARGETS)
def test_the_baseline_query_is_restricted_to_the_city(tmp_path, target):
    filters = {}
    for city in ("london", "frankfurt"):
        job, _ = _compile(tmp_path, load_config(city), name=f"{city}.json", target=target)
        executors = _executors(job)
        blessing = executors[kr.BLESSING_RESOLVER_EXECUTOR]["resolver"]["outputArtifactQueries"]
        filters[city] = blessing["model_blessing"]["filter"]
        model = executors[f"{wiring.BASELINE_RESOLVER}-model-resolver_executor"]["resolver"]
        # The Model query follows the (city's) blessing's current_model_id.
        assert "current_model_id" in model["outputArtifactQueries"]["model"]["filter"]
        evaluator = _tasks(job)[wiring.EVALUATOR]["inputs"]["parameters"]
        assert evaluator["city"] == {"runtimeValue": {"constant": city}}
    assert filters["london"] == (
        'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
        ' AND metadata.city.string_value="london"'
    )
    assert filters["frankfurt"].endswith('AND metadata.city.string_value="frankfurt"')


@pytest.mark.parametrize("target", kr.TARGETS)
def test_the_drift_baseline_query_is_restricted_to_the_city(tmp_path, target):
    """With the drift gate on, its own resolver compiles to the same latest-blessing
    query as the Evaluator's baseline, and gets the same city clause."""
    filters = {}
    for city in ("london", "frankfurt"):
        config = load_config(city)
        config = config.replace(drift=dataclasses.replace(config.drift, mode="block"))
        job, _ = _compile(tmp_path, config, name=f"{city}-drift.json", target=target)
        executors = _executors(job)
        query = executors[kr.blessing_resolver_executor(wiring.DRIFT_BASELINE_RESOLVER)]
        filters[city] = query["resolver"]["outputArtifactQueries"]["model_blessing"]["filter"]
        tasks = _tasks(job)
        gate = tasks[wiring.DRIFT_GATE]
        baseline = gate["inputs"]["artifacts"]["baseline"]["taskOutputArtifact"]
        assert baseline == {
            "producerTask": f"{wiring.DRIFT_BASELINE_RESOLVER}-model-blessing-resolver",
            "outputArtifactKey": "model_blessing",
        }
        assert wiring.STATISTICS_GEN in gate["dependentTasks"]
        assert wiring.DRIFT_GATE in tasks[wiring.EVALUATOR]["dependentTasks"]
        params = gate["inputs"]["parameters"]
        assert params["mode"] == {"runtimeValue": {"constant": "block"}}
        assert json.loads(params["thresholds"]["runtimeValue"]["constant"]) == (
            config.drift.all_thresholds()
        )
        # The recent-days check: fixed in the spec, its days resolved from the data.
        assert params["recent_days"] == {"runtimeValue": {"constant": config.drift.recent_days}}
        assert params["timezone"] == {"runtimeValue": {"constant": config.timezone}}
    assert filters["london"] == (
        'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
        ' AND metadata.city.string_value="london"'
    )
    assert filters["frankfurt"].endswith('AND metadata.city.string_value="frankfurt"')
