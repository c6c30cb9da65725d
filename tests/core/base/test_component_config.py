import asyncio
import json
import os
import subprocess
import sys
import textwrap
import warnings
from typing import Any, Self

import pytest
from pydantic import BaseModel, ValidationError

from actorgen_core import (
    CacheStore,
    CancellationToken,
    Component,
    ComponentBase,
    ComponentLoader,
    ComponentModel,
    InMemoryStore,
    is_component_class,
    is_component_instance,
)
from actorgen_core.code_executor import ImportFromModule
from actorgen_core.models import ChatCompletionClient
from actorgen_core.tools import FunctionTool, allow_function_tool_source


class MyConfig(BaseModel):
    info: str


class MyComponent(ComponentBase[MyConfig], Component[MyConfig]):
    """A component for tests.

    Args:
        info: anything.
    """

    component_type = "custom"
    component_config_schema = MyConfig

    def __init__(self, info: str) -> None:
        self.info = info

    def _to_config(self) -> MyConfig:
        return MyConfig(info=self.info)

    @classmethod
    def _from_config(cls, config: MyConfig) -> Self:
        return cls(info=config.info)


class VersionedConfig(BaseModel):
    name: str


class Versioned(ComponentBase[VersionedConfig], Component[VersionedConfig]):
    component_type = "custom"
    component_version = 2
    component_config_schema = VersionedConfig
    component_description = "explicit description"
    component_label = "explicit label"

    def __init__(self, name: str) -> None:
        self.name = name

    def _to_config(self) -> VersionedConfig:
        return VersionedConfig(name=self.name)

    @classmethod
    def _from_config(cls, config: VersionedConfig) -> Self:
        return cls(config.name)

    @classmethod
    def _from_config_past_version(cls, config: dict[str, Any], version: int) -> Self:
        assert version == 1
        return cls(config["old_name"] + " (upgraded)")


class NotUpgradable(MyComponent):
    component_version = 3


@pytest.mark.usefixtures("trust_test_components")
def test_dump_and_load_round_trip() -> None:
    model = MyComponent("hello").dump_component()
    assert model.provider == f"{__name__}.MyComponent"
    assert model.component_type == "custom"
    assert model.version == model.component_version == 1
    assert model.description == "A component for tests."
    assert model.label == "MyComponent"
    assert model.config == {"info": "hello"}

    loaded = MyComponent.load_component(model)
    assert isinstance(loaded, MyComponent) and loaded.info == "hello"
    generic = ComponentLoader.load_component(model.model_dump(), MyComponent)
    assert generic.info == "hello"
    from_json = MyComponent.load_component(json.loads(model.model_dump_json()))
    assert from_json.info == "hello"


def test_only_provider_and_config_are_needed() -> None:
    loaded = MyComponent.load_component({"provider": f"{__name__}.MyComponent", "config": {"info": "x"}})
    assert loaded.info == "x"


@pytest.mark.usefixtures("trust_test_components")
def test_expected_type_mismatch_is_type_error() -> None:
    model = MyComponent("x").dump_component()
    with pytest.raises(TypeError, match="Expected type does not match"):
        ComponentLoader.load_component(model, str)
    with pytest.raises(TypeError, match="Expected type does not match"):
        ChatCompletionClient.load_component(model)


def test_bad_config_fails_validation() -> None:
    with pytest.raises(ValidationError):
        MyComponent.load_component({"provider": f"{__name__}.MyComponent", "config": {"inf": "x"}})


def test_versions() -> None:
    model = Versioned("n").dump_component()
    assert model.version == 2 and model.component_version == 2
    assert model.description == "explicit description" and model.label == "explicit label"
    assert Versioned.load_component(model).name == "n"
    old = {"provider": f"{__name__}.Versioned", "component_version": 1, "config": {"old_name": "m"}}
    assert Versioned.load_component(old).name == "m (upgraded)"
    too_old = {"provider": f"{__name__}.NotUpgradable", "component_version": 1, "config": {"info": "x"}}
    with pytest.raises(NotImplementedError, match="_from_config_past_version"):
        NotUpgradable.load_component(too_old)


def test_description_is_not_inherited() -> None:
    assert NotUpgradable("x").dump_component().description is None


def test_local_class_cannot_be_dumped() -> None:
    class Local(MyComponent):
        pass

    with pytest.raises(TypeError, match="inside a function"):
        Local("x").dump_component()


def test_missing_component_type_warns_then_fails_to_dump() -> None:
    with pytest.warns(UserWarning, match="component_type"):

        class NoType(ComponentBase[MyConfig], Component[MyConfig]):
            component_config_schema = MyConfig

            def _to_config(self) -> MyConfig:
                return MyConfig(info="")

    NoType.component_provider_override = "tests.NoType"  # get past the <locals> check
    with pytest.raises(AttributeError, match="component_type"):
        NoType().dump_component()


def test_is_component_checks() -> None:
    assert is_component_class(MyComponent)
    assert is_component_instance(MyComponent("x"))
    assert not is_component_class(CacheStore)
    assert not is_component_instance(object())


@pytest.mark.parametrize(
    "provider",
    [
        "os.path.join",
        "subprocess.Popen",
        "actorgen_core_evil.Thing",
        "mytests.test_helpers_evil.X.Y",
        # a module called test_* is trusted no more than any other (issue 7, item 8)
        "evil.test_payload.Component",
        "test_payload.Component",
        f"{__name__}.MyComponent",
    ],
)
def test_untrusted_provider_is_refused_before_import(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTORGEN_ALLOWED_PROVIDER_NAMESPACES", raising=False)
    with pytest.raises(ValueError, match="not in a trusted namespace"):
        ComponentLoader.load_component({"provider": provider, "config": {}})


def test_the_class_a_config_names_loads_it_without_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    # MyComponent.load_component(config naming MyComponent) imports nothing: the caller holds
    # the class. Any other loader must import it, and so must trust its module.
    monkeypatch.delenv("ACTORGEN_ALLOWED_PROVIDER_NAMESPACES", raising=False)
    model = MyComponent("x").dump_component()
    assert MyComponent.load_component(model).info == "x"
    assert MyComponent.load_component(model.model_dump()).info == "x"
    with pytest.raises(ValueError, match="not in a trusted namespace"):
        ComponentLoader.load_component(model)
    with pytest.raises(ValueError, match="not in a trusted namespace"):
        MyComponent.load_component(NotUpgradable("y").dump_component())  # a subclass: imported, so checked


def test_a_component_defined_in_main_loads_through_its_class(tmp_path: Any) -> None:
    # The component-config tutorial defines its component in the script it runs.
    script = tmp_path / "tutorial.py"
    script.write_text(
        textwrap.dedent(
            """
            from typing import Self

            from pydantic import BaseModel

            from actorgen_core import Component, ComponentBase, ComponentLoader


            class Config(BaseModel):
                value: str


            class MyComponent(ComponentBase[Config], Component[Config]):
                component_type = "custom"
                component_config_schema = Config

                def __init__(self, value: str) -> None:
                    self.value = value

                def _to_config(self) -> Config:
                    return Config(value=self.value)

                @classmethod
                def _from_config(cls, config: Config) -> Self:
                    return cls(value=config.value)


            config = MyComponent("hello").dump_component()
            assert config.provider == "__main__.MyComponent", config.provider
            print(MyComponent.load_component(config).value)
            try:
                ComponentLoader.load_component(config)
            except ValueError as e:
                print("refused:", "trusted namespace" in str(e))
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "ACTORGEN_ALLOWED_PROVIDER_NAMESPACES"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:2] == ["hello", "refused: True"]


def test_provider_without_module_is_invalid() -> None:
    with pytest.raises(ValueError, match="Invalid component provider"):
        ComponentLoader.load_component({"provider": "NoDots", "config": {}})


def test_env_allow_list_extends_trusted_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    from actorgen_core._component_config import _get_trusted_namespaces

    monkeypatch.setenv("ACTORGEN_ALLOWED_PROVIDER_NAMESPACES", " json , ,mycompany.agents.")
    assert _get_trusted_namespaces()[-2:] == ["json.", "mycompany.agents."]
    # json is now importable as a provider namespace; JSONDecoder is not a component.
    with pytest.raises(TypeError, match="Invalid component class"):
        ComponentLoader.load_component({"provider": "json.decoder.JSONDecoder", "config": {}})
    monkeypatch.delenv("ACTORGEN_ALLOWED_PROVIDER_NAMESPACES")
    with pytest.raises(ValueError, match="not in a trusted namespace"):
        ComponentLoader.load_component({"provider": "json.decoder.JSONDecoder", "config": {}})


def test_autogen_provider_names_map_to_actorgen() -> None:
    store = ComponentLoader.load_component({"provider": "autogen_core.InMemoryStore", "config": {}})
    assert isinstance(store, InMemoryStore)
    with pytest.raises(ValueError, match="not in a trusted namespace"):
        ComponentLoader.load_component({"provider": "autogen_evil.Thing", "config": {}})


def test_in_memory_store() -> None:
    store: InMemoryStore[int] = InMemoryStore()
    assert store.get("a") is None
    assert store.get("a", 7) == 7
    store.set("a", 1)
    store.set("a", 2)
    assert store.get("a") == 2
    model = store.dump_component()
    assert model.provider == "actorgen_core.InMemoryStore"
    assert model.component_type == "cache_store"
    loaded = CacheStore.load_component(model)
    assert isinstance(loaded, InMemoryStore) and loaded.store == {}


def test_component_model_requires_provider_and_config() -> None:
    with pytest.raises(ValidationError):
        ComponentModel.model_validate({"provider": "x"})


async def async_tool_with_token(x: int, cancellation_token: CancellationToken) -> int:
    return x * 2


def sync_tool(x: int) -> int:
    return x + 1


def test_function_tool_source_loading_is_refused_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTORGEN_ALLOW_FUNCTION_TOOL_SOURCE", raising=False)
    model = FunctionTool(sync_tool, description="inc").dump_component()
    assert model.provider == "actorgen_core.tools.FunctionTool"
    assert model.config["source_code"].startswith("def sync_tool(x: int) -> int:")
    with pytest.raises(ValueError, match="Refusing to load FunctionTool 'sync_tool'"):
        FunctionTool.load_component(model)
    # Any other value than "1" does not open the switch.
    monkeypatch.setenv("ACTORGEN_ALLOW_FUNCTION_TOOL_SOURCE", "yes")
    with pytest.raises(ValueError, match="Refusing"):
        FunctionTool.load_component(model)


async def test_function_tool_round_trip_when_allowed_by_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTORGEN_ALLOW_FUNCTION_TOOL_SOURCE", "1")
    for func, expected in ((sync_tool, 4), (async_tool_with_token, 6)):
        model = FunctionTool(
            func, description="d", global_imports=[ImportFromModule("actorgen_core", ["CancellationToken"])]
        ).dump_component()
        with pytest.warns(UserWarning, match="executes the Python source"):
            loaded = FunctionTool.load_component(model)
        assert loaded.name == func.__name__
        assert await loaded.run_json({"x": 3}, CancellationToken()) == expected
        assert loaded.dump_component() == model  # the source survives a second dump
    cancelled = CancellationToken()
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loaded.run_json({"x": 3}, cancelled)


def test_function_tool_context_switch_and_load_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTORGEN_ALLOW_FUNCTION_TOOL_SOURCE", raising=False)
    good = FunctionTool(sync_tool, description="d").dump_component()
    with allow_function_tool_source(), pytest.warns(UserWarning):
        assert FunctionTool.load_component(good).name == "sync_tool"
    with pytest.raises(ValueError, match="Refusing"):
        FunctionTool.load_component(good)  # the switch ended with the block

    bad_import = good.model_copy(deep=True)
    bad_import.config["global_imports"] = ["no_such_module_for_actorgen"]
    bad_source = good.model_copy(deep=True)
    bad_source.config["source_code"] = "def sync_tool(x: int) -> int:\n    return x +\n"
    with allow_function_tool_source(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="no_such_module_for_actorgen"):
            FunctionTool.load_component(bad_import)
        with pytest.raises(ValueError, match="does not parse"):
            FunctionTool.load_component(bad_source)
