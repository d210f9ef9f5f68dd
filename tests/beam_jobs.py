"""Proof of where Beam ran: the jobs that finished on Beam's embedded job service."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

# Logged by Beam's job service (local_job_service) when a submitted job finishes.
JOB_DONE = "Completed job in"
JOB_SERVICE_LOGGER = "apache_beam.runners.portability"


class JobServiceLog(logging.Handler):
    """The job service's log lines while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def jobs_done(self) -> int:
        return sum(JOB_DONE in line and "state DONE" in line for line in self.lines)


@contextlib.contextmanager
def job_service_log() -> Iterator[JobServiceLog]:
    """A ``JobServiceLog`` attached to Beam's portability logger for the block."""
    logger = logging.getLogger(JOB_SERVICE_LOGGER)
    log, level = JobServiceLog(), logger.level
    logger.addHandler(log)
    logger.setLevel(logging.INFO)
    try:
        yield log
    finally:
        logger.removeHandler(log)
        logger.setLevel(level)
