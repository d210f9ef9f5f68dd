"""The one memory budget every stage's in-memory fast path stays under.

A stage holds its data in memory only when that data is smaller than the budget;
above it, the stage takes its bounded (streaming) path. The budget is the config's
``resources.memory_budget_mb``; 0 (the default) means an eighth of the machine's
physical memory (3 GB on a 24 GB machine), so a run's largest process stays well
inside the machine with several stages' worth of Python, TensorFlow and Beam around it.
"""

from __future__ import annotations

import os

DEFAULT_FRACTION_OF_MEMORY = 1 / 8
DEFAULT_MEMORY_BUDGET_MB = 0  # the config's default: DEFAULT_FRACTION_OF_MEMORY
_MIB = 1 << 20


def physical_memory_bytes() -> int:
    """The machine's physical memory (Linux and macOS)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_budget_bytes(memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB) -> int:
    """The budget in bytes: ``memory_budget_mb`` MiB, or the default when it is 0.

    Fractions of a MiB are for tests (the Trainer's ``custom_config`` takes them)."""
    if memory_budget_mb < 0:
        raise ValueError(f"memory_budget_mb must be >= 0 (0: default), got {memory_budget_mb}")
    if memory_budget_mb:
        return int(memory_budget_mb * _MIB)
    return int(physical_memory_bytes() * DEFAULT_FRACTION_OF_MEMORY)
