"""The collision report of the day x hour cross, and the choice of DEFAULT_CROSS_BUCKETS."""

from __future__ import annotations

import tensorflow as tf

from transforms import features
from transforms.collisions import cell_buckets, collision_report, main


def test_168_buckets_collide_and_groups_are_real_collisions():
    report = collision_report(168)
    assert 100 <= report.distinct_buckets <= 115  # about 108 for FarmHash64
    assert report.groups
    assert report.colliding_cells == sum(len(labels) for _, labels in report.groups)
    assert report.distinct_buckets == features.DAY_HOUR_CELLS - report.colliding_cells + len(
        report.groups
    )
    label_to_key = {features.day_hour_label(d, h): f"{d}_{h}" for d, h in features.all_day_hours()}
    for bucket, labels in report.groups:
        keys = [label_to_key[label] for label in labels]
        assert set(tf.strings.to_hash_bucket_fast(keys, 168).numpy().tolist()) == {bucket}


def test_default_cross_buckets_has_no_collisions():
    report = collision_report(features.DEFAULT_CROSS_BUCKETS)
    assert report.distinct_buckets == features.DAY_HOUR_CELLS
    assert report.colliding_cells == 0
    assert report.groups == ()


def test_default_cross_buckets_is_the_smallest_collision_free_count():
    for buckets in range(features.DAY_HOUR_CELLS, features.DEFAULT_CROSS_BUCKETS):
        assert len(set(cell_buckets(buckets))) < features.DAY_HOUR_CELLS, buckets


def test_cli_prints_the_report(capsys):
    main(["--buckets", "168"])
    out = capsys.readouterr().out
    assert out.startswith("cross_buckets=168: 168 cells in ")
    for bucket, labels in collision_report(168).groups:
        assert f"bucket {bucket}: {', '.join(labels)}" in out
