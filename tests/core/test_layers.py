"""The layers of actorgen_core, pinned: imports only point down (docs/layout.md).

    base  <-  components (agent kinds)  <-  AI components  <-  top level
    base  <-  application

The test reads every module's imports with ``ast`` (all of them: module level, inside
functions, under TYPE_CHECKING) and fails on an import that points up or sideways into a
layer the importer may not use. actorgen_ext and actorgen_agentchat may use only the public
names of actorgen_core.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import actorgen_agentchat
import actorgen_core
import actorgen_ext

AI_COMPONENTS = ("models", "tools", "model_context", "memory", "code_executor", "tool_agent", "utils")

# layer -> the layers its modules may import
MAY_IMPORT = {
    "base": {"base"},
    "components": {"base", "components"},
    "ai": {"base", "components", "ai"},
    "application": {"base", "application"},
    "top": {"base", "components", "ai", "application", "top"},
}

# What the base layer may import from outside the standard library.
BASE_THIRD_PARTY = {"pydantic", "pydantic_core", "google", "typing_extensions", "opentelemetry"}

# (importer, imported) pairs that break the rule today, each with the work that removes it.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def _modules(package: object) -> dict[str, Path]:
    root = Path(package.__file__).parent  # type: ignore[attr-defined]
    name = package.__name__  # type: ignore[attr-defined]
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([name, *parts])] = path
    return found


CORE = _modules(actorgen_core)


def _is_package(module: str, path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int, list[str]]]:
    """(imported module, line, names imported from it) for every import statement."""
    package = module if _is_package(module, path) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            # `from pkg import submodule` imports the submodule.
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            if submodules:
                for sub in submodules:
                    yield sub, node.lineno, []
                rest = [n for n in names if f"{target}.{n}" not in known]
                if rest:
                    yield target, node.lineno, rest
            else:
                yield target, node.lineno, names


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "top"
    if parts[1] in ("base", "components", "application"):
        return parts[1]
    if parts[1] in AI_COMPONENTS:
        return "ai"
    return "top"  # __init__, exceptions, logging, _compat


def _core_edges() -> list[tuple[str, str, int]]:
    edges = []
    for module, path in CORE.items():
        for target, line, _ in _imports(module, path, CORE):
            if target == "actorgen_core" or target.startswith("actorgen_core."):
                edges.append((module, target, line))
    return edges


def test_the_walk_sees_every_layer() -> None:
    layers = {_layer(module) for module in CORE}
    assert layers == set(MAY_IMPORT)
    assert len(_core_edges()) > 100


def test_imports_only_point_down() -> None:
    upward = [
        f"{CORE[importer]}:{line}: {importer} ({_layer(importer)}) imports {target} ({_layer(target)})"
        for importer, target, line in _core_edges()
        if _layer(target) not in MAY_IMPORT[_layer(importer)] and (importer, target) not in KNOWN_EXCEPTIONS
    ]
    assert upward == []


def test_known_exceptions_still_exist() -> None:
    """An exception that is fixed must leave the list, so the list never hides a new leak."""
    edges = {(importer, target) for importer, target, _ in _core_edges()}
    assert KNOWN_EXCEPTIONS <= edges


def test_ai_component_packages_do_not_import_each_other_in_a_cycle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in AI_COMPONENTS}
    for importer, target, _ in _core_edges():
        if _layer(importer) == _layer(target) == "ai":
            a, b = importer.split(".")[1], target.split(".")[1]
            if a != b:
                graph[a].add(b)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert [name for name in AI_COMPONENTS if reaches(name, name, set())] == []


def test_base_imports_only_the_standard_library_and_its_few_dependencies() -> None:
    outside = sorted(
        f"{module}: {target}"
        for module, path in CORE.items()
        if _layer(module) == "base"
        for target, _, _ in _imports(module, path, CORE)
        if not target.startswith("actorgen_core")
        and target.split(".")[0] not in sys.stdlib_module_names
        and target.split(".")[0] not in BASE_THIRD_PARTY
        and target != "__future__"
    )
    assert outside == []


@pytest.mark.parametrize("package", [actorgen_ext, actorgen_agentchat], ids=lambda p: p.__name__)
def test_other_packages_use_only_public_names_of_actorgen_core(package: object) -> None:
    modules = _modules(package)
    private = [
        f"{modules[module]}:{line}: {target} {names}"
        for module, path in modules.items()
        for target, line, names in _imports(module, path, CORE)
        if target.split(".")[0] == "actorgen_core"
        and (any(part.startswith("_") for part in target.split(".")) or any(n.startswith("_") for n in names))
    ]
    assert private == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    # The parser itself: a relative import from base into the AI layer is resolved and classified.
    source = tmp_path / "_x.py"
    source.write_text("from ..models import CreateResult\nfrom . import _agent_id\n", encoding="utf-8")
    known = {**CORE, "actorgen_core.base._x": source}
    targets = [t for t, _, _ in _imports("actorgen_core.base._x", source, known)]
    assert targets == ["actorgen_core.models", "actorgen_core.base._agent_id"]
    assert _layer(targets[0]) not in MAY_IMPORT["base"]
