"""The layering rule: ``deploy/`` sits at the edge, and inside it arrows point inward.

Nothing under ``pipeline/``, ``components/`` or ``transforms/`` may import ``deploy``, and
each package under ``deploy/`` imports only the ``deploy`` packages ``DEPLOY_ARROWS`` lists
for it. The check parses every module's imports (including function-local ones) with
``ast``, and every string that names a ``deploy`` module by its dotted path, the way
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
# Each deploy package -> the other deploy packages it may import (it may import itself).
# From the outside in: cli -> signal_plans -> insights -> runners -> mlmd / datasets ->
# exit_codes; the two runners never import each other, nor mlmd and datasets.
DEPLOY_ARROWS: dict[str, frozenset[str]] = {
    "deploy.cli": frozenset(
        {
            "deploy.signal_plans",
            "deploy.insights",
            "deploy.runners.local",
            "deploy.runners.kubeflow",
            "deploy.runners.beam_profiles",
            "deploy.mlmd",
            "deploy.datasets",
            "deploy.exit_codes",
        }
    ),
    "deploy.signal_plans": frozenset(
        {"deploy.insights", "deploy.mlmd", "deploy.datasets", "deploy.exit_codes"}
    ),
    "deploy.insights": frozenset(
        {"deploy.runners.local", "deploy.mlmd", "deploy.datasets", "deploy.exit_codes"}
    ),
    "deploy.runners.local": frozenset(
        {"deploy.runners.beam_profiles", "deploy.mlmd", "deploy.exit_codes"}
    ),
    "deploy.runners.kubeflow": frozenset({"deploy.runners.beam_profiles", "deploy.exit_codes"}),
    "deploy.runners.beam_profiles": frozenset({"deploy.exit_codes"}),
    "deploy.mlmd": frozenset({"deploy.exit_codes"}),
    "deploy.datasets": frozenset({"deploy.exit_codes"}),
    "deploy.exit_codes": frozenset(),
}
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


def _is_module(dotted: str, root: Path) -> bool:
    path = root / dotted.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_targets(source: str, filename: str, root: Path = ROOT) -> list[tuple[int, str]]:
    """Like ``imported_modules``, but ``from pkg import name`` counts as ``pkg.name`` when
    that is a module under ``root`` (``from deploy.runners import beam_profiles``)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub, root) else node.module))
    return found


def _references(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    source = path.read_text()
    return sorted(set(imported_targets(source, str(path), root) + named_modules(source, str(path))))


def edge_imports(path: Path) -> list[str]:
    """``file:line: module`` for each import of, or reference by name to, the edge package."""
    return [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for line, module in _references(path)
        if _is_edge(module)
    ]


def deploy_package(module: str) -> str | None:
    """The ``DEPLOY_ARROWS`` package that owns ``module`` (the longest matching prefix)."""
    owners = [p for p in DEPLOY_ARROWS if module == p or module.startswith(p + ".")]
    return max(owners, key=len) if owners else None


def module_name(path: Path, root: Path = ROOT) -> str:
    """``deploy/cli/local.py`` -> ``deploy.cli.local`` (a package's ``__init__`` -> the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_parent_package(module: str) -> bool:
    """``deploy`` and ``deploy.runners``: parents of ``DEPLOY_ARROWS`` packages, no code."""
    return any(p.startswith(module + ".") for p in DEPLOY_ARROWS)


def outward_arrows(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: from -> to`` for each reference to a deploy package that ``path``'s
    package may not import (a parent such as ``deploy`` itself counts as outward)."""
    owner = deploy_package(module_name(path, root))
    allowed = DEPLOY_ARROWS[owner] | {owner}
    return [
        f"{path.relative_to(root)}:{line}: {owner} -> {module}"
        for line, module in _references(path, root)
        if _is_edge(module) and deploy_package(module) not in allowed
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


def test_every_deploy_module_belongs_to_a_package():
    modules = sorted((ROOT / EDGE_PACKAGE).rglob("*.py"))
    parents = [p for p in modules if _is_parent_package(module_name(p))]
    assert {module_name(p) for p in parents} == {"deploy", "deploy.runners"}
    assert not [hit for p in parents for hit in edge_imports(p)], "a parent package imports"
    unowned = [
        str(p.relative_to(ROOT))
        for p in modules
        if p not in parents and deploy_package(module_name(p)) is None
    ]
    assert not unowned, "deploy modules outside DEPLOY_ARROWS' packages:\n" + "\n".join(unowned)
    for package in DEPLOY_ARROWS:  # and every package listed exists
        path = ROOT / package.replace(".", "/")
        assert path.is_dir() or path.with_suffix(".py").is_file(), package


def test_the_arrow_check_flags_an_outward_import(tmp_path):
    (tmp_path / "deploy" / "runners" / "local").mkdir(parents=True)
    (tmp_path / "deploy" / "runners" / "local" / "layout.py").write_text("")
    module = tmp_path / "deploy" / "datasets" / "sneaky.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import importlib\n"
        "from deploy.exit_codes import UsageError\n"
        "from deploy.datasets.synthetic import cities\n"
        "def f():\n"
        "    from deploy.runners.local import layout\n"
        "CLI = importlib.import_module('deploy.cli.local')\n"
        "ANY = 'deploy'\n"
    )
    found = outward_arrows(module, root=tmp_path)
    assert [hit.split(":", 1)[1] for hit in found] == [
        "5: deploy.datasets -> deploy.runners.local.layout",
        "6: deploy.datasets -> deploy.cli.local",
        "7: deploy.datasets -> deploy",
    ]


@pytest.mark.parametrize("package", sorted(DEPLOY_ARROWS))
def test_deploy_arrows_point_inward(package):
    root = ROOT / package.replace(".", "/")
    modules = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
    modules = [p for p in modules if deploy_package(module_name(p)) == package]
    assert modules, f"no modules found for {package}"
    offenders = [hit for path in modules for hit in outward_arrows(path)]
    assert not offenders, f"outward imports from {package}:\n" + "\n".join(offenders)
