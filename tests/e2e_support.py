"""Shared helpers for the end-to-end tests: small generated cities and test configs."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploy.cli import main as cli_main
from transforms import features

# Small enough for CI on 2 cores, big enough that a trained model beats the gate.
E2E_DAYS = 9
E2E_INTERSECTIONS = 3
E2E_TRAIN_STEPS = 150


def generate(city: str, out: Path, days: int = E2E_DAYS, **extra: str) -> Path:
    args = [
        "generate",
        "--city",
        city,
        "--days",
        str(days),
        "--out",
        str(out),
        "--intersections",
        str(E2E_INTERSECTIONS),
    ]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    assert cli_main(args) == 0
    return out


def write_config(path: Path, city: str, timezone: str, **sections) -> Path:
    """A small-run config: 2 eval days, few steps; ``sections`` override keys."""
    config = {
        "city": city,
        "timezone": timezone,
        "data": {"split": {"kind": "time", "eval_days": 2}},
        "training": {"train_steps": E2E_TRAIN_STEPS, "eval_steps": 20, "batch_size": 256},
        "evaluation": {
            "thresholds": {
                "sparse_categorical_crossentropy": {"upper_bound": 1.3, "max_increase": 0.05},
                "mean_absolute_error": {"upper_bound": 1000.0, "max_increase": 50.0},
            }
        },
    }
    for key, value in sections.items():
        config[key] = value
    path.write_text(yaml.safe_dump(config))
    return path


def run(city: str, config: Path, data: Path, output: Path, *extra: str) -> int:
    return cli_main(
        [
            "run",
            "--city",
            city,
            "--config",
            str(config),
            "--data",
            str(data),
            "--output",
            str(output),
            "--workers",
            "1",
            *extra,
        ]
    )


def halve_approach(data, intersection: str, direction: str, first_day: str) -> int:
    """Drops every second row of one approach from ``first_day`` on; rows dropped."""
    dropped = 0
    for path in sorted(data.glob("*.csv")):
        if path.name[:10] < first_day:
            continue
        header, *rows = path.read_text().splitlines()
        index = header.split(",").index
        i, d = index(features.RAW_INTERSECTION), index(features.RAW_DIRECTION)
        kept, seen = [header], 0
        for row in rows:
            cells = row.split(",")
            if cells[i] == intersection and cells[d] == direction:
                seen += 1
                if seen % 2 == 0:
                    dropped += 1
                    continue
            kept.append(row)
        path.write_text("\n".join(kept) + "\n")
    return dropped
