"""The layering rule: ``deploy/`` (runners, CLI, generator) sits at the edge.

Nothing under ``pipeline/``, ``components/`` or ``transforms/`` may import ``deploy``;
the check parses every module's imports (including function-local ones) with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INNER_PACKAGES = ("pipeline", "components", "transforms")
EDGE_PACKAGE = "deploy"


def imported_modules(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def edge_imports(path: Path) -> list[str]:
    """``file:line: module`` for each import of the edge package in ``path``."""
    return [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for line, module in imported_modules(path.read_text(), str(path))
        if module == EDGE_PACKAGE or module.startswith(EDGE_PACKAGE + ".")
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


@pytest.mark.parametrize("package", INNER_PACKAGES)
def test_inner_packages_never_import_deploy(package):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found under {package}/"
    offenders = [hit for path in modules for hit in edge_imports(path)]
    assert not offenders, "imports of deploy/ from an inner package:\n" + "\n".join(offenders)
