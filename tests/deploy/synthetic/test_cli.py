"""The ``generate`` subcommand: success, and a one-line error with exit 2 for bad input."""

from __future__ import annotations

import argparse

import pytest

from deploy.cli import generate as cli
from deploy.datasets.output import MARKER_FILE
from deploy.datasets.synthetic import cities, generator


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="traffic-pipeline")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["generate", *argv])
    return args.func(args)


def snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_generate_writes_files_and_reports(tmp_path, capsys):
    out = tmp_path / "nested" / "london"
    code = run(["--city", "london", "--out", str(out), "--days", "3", "--intersections", "2"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER_FILE,
        "2026-03-16.csv",
        "2026-03-17.csv",
        "2026-03-18.csv",
        "ground_truth.json",
    ]
    assert "london" in capsys.readouterr().out


def test_cli_options_reach_the_generator(tmp_path):
    argv = ["--city", "Lyon", "--timezone", "Europe/Paris", "--seed", "9", "--days", "2"]
    argv += ["--start", "2026-06-01", "--format", "parquet", "--intersections", "3"]
    assert run([*argv, "--scale", "0.5", "--out", str(tmp_path / "cli")]) == 0
    direct = generator.generate(
        cities.get_city("lyon", "Europe/Paris"),
        tmp_path / "direct",
        days=2,
        start_date="2026-06-01",
        file_format="parquet",
        seed=9,
        intersections=3,
        scale=0.5,
    )
    for name in [*direct.rows_per_file, generator.GROUND_TRUTH_FILE]:
        assert (tmp_path / "cli" / name).read_bytes() == (direct.path / name).read_bytes()


def test_overwrite_flag(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["--city", "london", "--out", str(out), "--days", "1", "--intersections", "2"]) == 0
    first = (out / "2026-03-16.csv").read_bytes()
    base = ["--city", "london", "--out", str(out), "--days", "1", "--intersections", "2"]
    assert run([*base, "--seed", "1"]) == 2
    assert (out / "2026-03-16.csv").read_bytes() == first  # untouched
    assert run([*base, "--seed", "1", "--overwrite"]) == 0
    assert (out / "2026-03-16.csv").read_bytes() != first
    assert snapshot(tmp_path) == [
        "out",
        f"out/{MARKER_FILE}",
        "out/2026-03-16.csv",
        "out/ground_truth.json",
    ]


BAD_INPUTS = {
    "unknown city without timezone": (["--city", "atlantis"], "atlantis"),
    "invalid zone for unknown city": (["--city", "atlantis", "--timezone", "Mars/Olympus"], "Mars"),
    "invalid zone for built-in city": (
        ["--city", "london", "--timezone", "Europe/Lundon"],
        "Lundon",
    ),
    "zero days": (["--city", "london", "--days", "0"], "days"),
    "negative days": (["--city", "london", "--days", "-3"], "days"),
    "zero intersections": (["--city", "london", "--intersections", "0"], "intersections"),
    "zero scale": (["--city", "london", "--scale", "0"], "scale"),
    "negative scale": (["--city", "london", "--scale", "-1.5"], "scale"),
    "nan scale": (["--city", "london", "--scale", "nan"], "scale"),
    "negative seed": (["--city", "london", "--seed", "-1"], "seed"),
    "invalid start date": (["--city", "london", "--start", "2026-02-30"], "2026-02-30"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, capsys, case):
    argv, named = BAD_INPUTS[case]
    assert (
        run(
            [*argv, "--out", str(tmp_path / "out"), "--days", "2"]
            if "--days" not in argv
            else [*argv, "--out", str(tmp_path / "out")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and named in err, err
    assert snapshot(tmp_path) == []


def test_unwritable_out_dir(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    assert run(["--city", "london", "--days", "1", "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "a-file" in err, err
    assert snapshot(tmp_path) == ["a-file"]


def test_out_dir_with_data_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious\n")
    assert run(["--city", "london", "--days", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err, err
    assert snapshot(tmp_path) == ["out", "out/keep.txt"]


def test_out_path_that_is_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.write_text("a file\n")
    assert run(["--city", "london", "--days", "1", "--out", str(out)]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert out.read_text() == "a file\n"


def test_empty_existing_out_dir_is_used(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert (
        run(["--city", "frankfurt", "--days", "1", "--intersections", "2", "--out", str(out)]) == 0
    )
    assert snapshot(tmp_path) == [
        "out",
        f"out/{MARKER_FILE}",
        "out/2026-03-16.csv",
        "out/ground_truth.json",
    ]
