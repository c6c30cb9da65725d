"""The public surface of actorgen_agentchat: nothing private in any ``__all__``, typed."""

from __future__ import annotations

import importlib.resources

import pytest

from ..surface import assert_all_is_public, walk_modules


@pytest.mark.parametrize("module_name", walk_modules("actorgen_agentchat"))
def test_no_private_name_in_all(module_name: str) -> None:
    assert_all_is_public(module_name)


def test_package_has_py_typed() -> None:
    assert importlib.resources.files("actorgen_agentchat").joinpath("py.typed").is_file()
