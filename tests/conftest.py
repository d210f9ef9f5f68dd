"""Test session set-up: pin Keras 2 before any test module imports TensorFlow.

``pytest --reverse-order`` runs the collected tests last to first: the suite must pass
in any order (each test sets up what it needs; shared fixtures are read, never assumed
to be fresh).
"""

from transforms import keras_mode

keras_mode.use_legacy_keras()


def pytest_addoption(parser):
    parser.addoption(
        "--reverse-order",
        action="store_true",
        help="run the collected tests in reverse order (checks order independence)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse-order"):
        items.reverse()
