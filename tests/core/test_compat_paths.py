"""autogen_core's semi-private module paths that other code imports keep working after the rename."""

from __future__ import annotations

import importlib

import pytest

import actorgen_core

PATHS = {
    "_agent_id": ["AgentId"],
    "_agent_type": ["AgentType"],
    "_topic": ["TopicId"],
    "_default_topic": ["DefaultTopicId"],
    "_message_context": ["MessageContext"],
    "_cancellation_token": ["CancellationToken"],
    "_subscription": ["Subscription"],
    "_type_subscription": ["TypeSubscription"],
    "_type_prefix_subscription": ["TypePrefixSubscription"],
    "_default_subscription": ["DefaultSubscription", "default_subscription", "type_subscription"],
    "_base_agent": ["BaseAgent"],
    "_routed_agent": ["RoutedAgent", "message_handler", "event", "rpc"],
    "_closure_agent": ["ClosureAgent", "ClosureContext"],
    "_serialization": ["MessageSerializer", "UnknownPayload", "try_get_known_serializers_for_type"],
    "_component_config": ["Component", "ComponentModel", "ComponentLoader"],
}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_private_path_reexports_the_public_objects(module: str) -> None:
    mod = importlib.import_module(f"actorgen_core.{module}")
    for name in PATHS[module]:
        assert getattr(mod, name) is getattr(actorgen_core, name), f"actorgen_core.{module}.{name}"


def test_helpers_only_reachable_through_private_paths() -> None:
    from actorgen_core._base_agent import handles, subscription_factory
    from actorgen_core._runtime_impl_helpers import SubscriptionManager
    from actorgen_core._serialization import SerializationRegistry
    from actorgen_core._type_helpers import AnyType, get_types
    from actorgen_core.application import SubscriptionManager as PublicManager

    assert SubscriptionManager is PublicManager
    assert get_types(int | None) == (int, type(None))
    assert get_types(object) == (object,) and AnyType is not object
    assert callable(handles) and callable(subscription_factory)
    assert SerializationRegistry().is_registered("x", "application/json") is False


@pytest.mark.parametrize(
    ("module_name", "name"),
    [
        ("actorgen_core.models._model_client", "ModelFamily"),
        ("actorgen_core.models._model_client", "ModelInfo"),
        ("actorgen_core.tools._base", "ToolSchema"),
        ("actorgen_core.code_executor._func_with_reqs", "build_python_functions_file"),
        ("actorgen_core.utils._json_to_pydantic", "_JSONSchemaToPydantic"),
        ("actorgen_core.utils._json_to_pydantic", "FORMAT_MAPPING"),
        ("actorgen_core._component_config", "_get_trusted_namespaces"),
        ("actorgen_core._function_utils", "get_typed_signature"),
    ],
)
def test_component_semi_private_paths_exist(module_name: str, name: str) -> None:
    assert hasattr(importlib.import_module(module_name), name)
