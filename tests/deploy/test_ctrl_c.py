"""Ctrl-C during a run reads as Ctrl-C even when a library turns it into another error."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from deploy.runners.local.runner import noticing_ctrl_c


def _swallowing_library():
    """What TensorFlow does when SIGINT lands while it traces a tf.data function."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the handler runs here at the latest
    except KeyboardInterrupt as err:
        raise TypeError() from err


def test_a_swallowed_ctrl_c_is_still_noticed_and_the_handler_restored():
    before = signal.getsignal(signal.SIGINT)
    with noticing_ctrl_c() as seen, pytest.raises(TypeError):
        _swallowing_library()
    assert seen == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is before


def test_no_ctrl_c_leaves_nothing_noticed():
    with noticing_ctrl_c() as seen:
        pass
    assert seen == []


def test_off_the_main_thread_nothing_is_installed():
    before = signal.getsignal(signal.SIGINT)
    result = []

    def run():
        with noticing_ctrl_c() as seen:
            result.append((seen, signal.getsignal(signal.SIGINT)))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert result == [([], before)]
