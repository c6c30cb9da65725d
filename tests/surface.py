"""What the three exports tests (core, agentchat, ext) check the same way: every module's ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil

import pytest


def walk_modules(package: str) -> list[str]:
    """The package and every module below it, sorted."""
    root = importlib.import_module(package)
    return sorted([package, *(info.name for info in pkgutil.walk_packages(root.__path__, package + "."))])


def assert_all_is_public(module_name: str) -> None:
    """``__all__`` (if any) names only public, existing objects, each once."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:  # a module of an optional extra (e.g. grpc) in an env without it
        if e.name is not None and not e.name.startswith("actorgen"):
            pytest.skip(f"{module_name} needs the optional dependency {e.name}")
        raise
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    assert [n for n in exported if n.startswith("_")] == []
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    assert [n for n in exported if not hasattr(module, n)] == [], "__all__ names something that does not exist"
