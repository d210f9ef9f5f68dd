"""The layering rule: ``deploy/`` (runners, CLI, generator) sits at the edge.

Nothing under ``pipeline/``, ``components/`` or ``transforms/`` may import ``deploy``;
the check parses every module's imports (including function-local ones) with ``ast``,
and every string that names a ``deploy`` module by its dotted path, the way
``importlib.import_module("deploy.x")``, a TFX ``module_file``/``run_fn`` path or an
entry-point string (``"deploy.x:fn"``) would reach it without an import statement.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INNER_PACKAGES = ("pipeline", "components", "transforms")
EDGE_PACKAGE = "deploy"
# A dotted module path (optionally ``:attribute``): "deploy", "deploy.cli", "deploy.cli:main".
_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?$")


def imported_modules(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def named_modules(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, module) of every string constant in ``source`` that is a dotted module path."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and _DOTTED_PATH.match(node.value):
            found.append((node.lineno, node.value.split(":")[0]))
    return sorted(found)


def _is_edge(module: str) -> bool:
    return module == EDGE_PACKAGE or module.startswith(EDGE_PACKAGE + ".")


def edge_imports(path: Path) -> list[str]:
    """``file:line: module`` for each import of, or reference by name to, the edge package."""
    source = path.read_text()
    references = imported_modules(source, str(path)) + named_modules(source, str(path))
    return [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for line, module in sorted(references)
        if _is_edge(module)
    ]


def test_the_check_sees_top_level_and_function_local_imports():
    source = (
        "import deploy.cli\nfrom deploy import x\ndef f():\n    from deploy.synthetic import y\n"
    )
    assert [m for _, m in imported_modules(source, "<test>")] == [
        "deploy.cli",
        "deploy",
        "deploy.synthetic",
    ]
    assert imported_modules("from . import deploy\nimport deployment\n", "<t>")[0][1] == (
        "deployment"
    )


def test_the_check_sees_modules_named_in_strings(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text(
        "import importlib\n"
        "cli = importlib.import_module('deploy.cli')\n"
        "RUN_FN = 'deploy.insights.cli:main'\n"
        "NOT_A_MODULE = 'deploy/ holds the runners'\n"
        "OTHER = 'deployment.cli'\n"
    )
    found = named_modules(module.read_text(), str(module))
    assert [m for _, m in found if _is_edge(m)] == ["deploy.cli", "deploy.insights.cli"]
    assert [line for line, m in found if _is_edge(m)] == [2, 3]


@pytest.mark.parametrize("package", INNER_PACKAGES)
def test_inner_packages_never_import_deploy(package):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found under {package}/"
    offenders = [hit for path in modules for hit in edge_imports(path)]
    assert not offenders, "imports of deploy/ from an inner package:\n" + "\n".join(offenders)
