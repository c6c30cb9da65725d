"""The public surface of actorgen_ext: the autogen_ext names we promise, and nothing private."""

from __future__ import annotations

import importlib
import importlib.resources

import pytest

from ..surface import assert_all_is_public, walk_modules

PROMISED = {
    "actorgen_ext.models.openai": {
        "OpenAIChatCompletionClient",
        "BaseOpenAIChatCompletionClient",
        "OpenAIClientConfigurationConfigModel",
        "BaseOpenAIClientConfigurationConfigModel",
        "CreateArgumentsConfigModel",
        "AuthenticationError",
        "RateLimitError",
    },
    "actorgen_ext.models.replay": {"ReplayChatCompletionClient"},
    "actorgen_ext.code_executors.local": {"LocalCommandLineCodeExecutor", "CommandLineCodeResult"},
    "actorgen_ext.code_executors": {"CommandLineCodeResult"},
}


@pytest.mark.parametrize("module_name", sorted(PROMISED))
def test_promised_names_are_exported_and_nothing_private_leaks(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    assert PROMISED[module_name] <= exported
    assert not [name for name in exported if name.startswith("_")]
    for name in exported:
        assert getattr(module, name) is not None


def test_components_name_their_public_import_path() -> None:
    from actorgen_ext.code_executors.local import LocalCommandLineCodeExecutor
    from actorgen_ext.models.openai import OpenAIChatCompletionClient
    from actorgen_ext.models.replay import ReplayChatCompletionClient

    for cls in (OpenAIChatCompletionClient, ReplayChatCompletionClient, LocalCommandLineCodeExecutor):
        module_name, _, class_name = (cls.component_provider_override or "").rpartition(".")
        assert getattr(importlib.import_module(module_name), class_name) is cls


@pytest.mark.parametrize("module_name", walk_modules("actorgen_ext"))
def test_no_private_name_in_all(module_name: str) -> None:
    assert_all_is_public(module_name)


def test_package_has_py_typed() -> None:
    assert importlib.resources.files("actorgen_ext").joinpath("py.typed").is_file()
