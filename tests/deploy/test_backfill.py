"""``traffic-pipeline backfill``: the nights it runs, and bad input (one line, exit 2)."""

from __future__ import annotations

from datetime import date

import pytest

from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.runners.local import backfill


def test_nights_are_every_day_in_order_both_ends_included():
    assert list(backfill.nights(date(2026, 2, 27), date(2026, 3, 2))) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
        date(2026, 3, 2),
    ]
    assert list(backfill.nights(date(2026, 3, 2), date(2026, 3, 2))) == [date(2026, 3, 2)]


def test_the_loop_stops_at_the_first_failing_night_and_names_it():
    ran, lines = [], []
    codes = {
        date(2026, 3, 2): exit_codes.NOT_BLESSED,  # a completed night: the loop goes on
        date(2026, 3, 3): exit_codes.COMPONENT_FAILED,
    }

    def run_night(day: date) -> int:
        ran.append(day)
        return codes.get(day, exit_codes.OK)

    def already_done(day: date) -> str | None:
        return f"{day}: already done" if day == date(2026, 3, 1) else None

    code = backfill.backfill(
        date(2026, 3, 1),
        date(2026, 3, 5),
        run_night,
        lambda d: f"{d}: done",
        already_done,
        lines.append,
    )
    assert code == exit_codes.COMPONENT_FAILED
    assert ran == [date(2026, 3, 2), date(2026, 3, 3)]  # 03-01 was done, 03-04 never runs
    assert lines == [
        "2026-03-01: already done",
        "2026-03-02: done",
        "2026-03-03: FAILED (exit 1); backfill stopped at this day",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "2026-03-22", "--to", "2026-03-20"], "--from 2026-03-22 is after --to"),
        (["--from", "22/03/2026", "--to", "2026-03-20"], "is not a YYYY-MM-DD date"),
        (["--from", "2026-03-20", "--to", "2026-03-22"], "has no data.window_days"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    output = tmp_path / "output"
    try:
        code = cli_main(["backfill", "--city", "london", "--output", str(output), *extra])
    except SystemExit as stop:  # argparse's usage errors exit from the parser
        code = stop.code
    assert code == exit_codes.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not output.exists()  # nothing ran
