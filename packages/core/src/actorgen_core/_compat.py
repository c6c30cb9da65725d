"""autogen_core's semi-private import paths, kept so that code written for it migrates by renaming.

Code written for autogen_core (its own tests, autogen-ext, autogen-agentchat, third-party
extensions) imports some names from private modules, e.g. ``autogen_core._serialization``.
Where our layout already has a real module at the same path (``models/_types.py``,
``tools/_function_tool.py``, ``utils/_json_to_pydantic.py``, ...), nothing is needed. Every
other such path is one row of ``COMPAT_PATHS`` below: importing it yields the module that
holds those names today (the same module object, not a copy), so ``actorgen_core._agent_id``
*is* ``actorgen_core.base._agent_id``. A meta-path finder resolves the rows lazily, on first
import, so they cost nothing for code that never uses them.

Rule: a path gets a row only if code written for autogen_core 0.7 imports it (the reason is
the comment on the row); a name we support but autogen_core keeps elsewhere is not a reason.
tests/core/test_compat_paths.py imports every row and checks the names it promises.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

_PACKAGE = __name__.rpartition(".")[0]

COMPAT_PATHS: dict[str, str] = {
    # identities and addressing (autogen_core's own tests, extensions)
    "_agent_id": "base._agent_id",
    "_agent_type": "base._agent_type",
    "_topic": "base._topic",
    "_default_topic": "base._default_topic",
    "_message_context": "base._message_context",
    "_cancellation_token": "base._cancellation_token",
    "_agent_metadata": "base._agent_metadata",
    # protocols and agents
    "_agent": "base._agent",
    "_agent_runtime": "base._agent_runtime",
    "_base_agent": "base._base_agent",  # handles, subscription_factory
    "_routed_agent": "components._routed_agent",  # MessageHandler
    "_closure_agent": "components._closure_agent",
    "_agent_proxy": "components._agent_proxy",
    # subscriptions and contexts
    "_subscription": "base._subscription",
    "_type_subscription": "base._type_subscription",
    "_type_prefix_subscription": "base._type_prefix_subscription",
    "_default_subscription": "base._default_subscription",
    "_agent_instantiation": "base._contexts",
    "_message_handler_context": "base._contexts",
    "_subscription_context": "base._contexts",
    # messages, serialization, config (the gRPC runtime and extensions)
    "_serialization": "base._serialization",  # SerializationRegistry, has_nested_base_model, ...
    "_intervention": "base._intervention",
    "_image": "base._image",
    "_types": "base._function_call",  # FunctionCall
    "_component_config": "base._component_config",  # _type_to_provider_str, WELL_KNOWN_PROVIDERS, ...
    "_cache_store": "base._cache_store",
    "_constants": "base._constants",
    "_type_helpers": "base._type_helpers",  # AnyType, get_types, is_union, is_optional
    "_telemetry": "base._genai_telemetry",  # trace_*_span (autogen-agentchat, autogen-ext)
    "_function_utils": "tools._function_utils",  # get_function_schema, ... (AutoGen's docs)
    "_runtime_impl_helpers": "application._subscription_manager",  # SubscriptionManager
}
"""``actorgen_core.<key>`` is an alias of ``actorgen_core.<value>``."""


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        # The import system keeps the module's own __name__ and __spec__ (they are set) and
        # records it under the alias in sys.modules.
        return importlib.import_module(self._target)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the target module was executed by its own import."""


class _CompatPathFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != _PACKAGE or name not in COMPAT_PATHS:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(f"{_PACKAGE}.{COMPAT_PATHS[name]}"))


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once, however often the package is reloaded)."""
    # By name, not isinstance: a reloaded package defines a new class but must not add a second finder.
    if not any(type(finder).__qualname__ == _CompatPathFinder.__qualname__ for finder in sys.meta_path):
        sys.meta_path.append(_CompatPathFinder())
