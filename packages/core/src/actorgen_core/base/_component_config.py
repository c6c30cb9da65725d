"""Declarative component configuration: dump a component to a :class:`ComponentModel` and load it back.

A *component* is a class that can describe itself as ``provider`` (an importable class path)
plus a pydantic ``config``. Loading imports the provider, so it is a code-execution surface:
:meth:`ComponentLoader.load_component` only imports modules under a trusted namespace
(see :func:`_get_trusted_namespaces`): ours, and the prefixes listed in the environment
variable ``ACTORGEN_ALLOWED_PROVIDER_NAMESPACES``. Tests opt in like any other code, by
setting that variable (``monkeypatch.setenv``). Calling ``load_component`` on the very class
a config names imports nothing and needs no trust. Everything else about the format follows
autogen_core.
"""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar, overload

from pydantic import BaseModel

__all__ = [
    "ComponentType",
    "ComponentModel",
    "ComponentFromConfig",
    "ComponentToConfig",
    "ComponentLoader",
    "ComponentSchemaType",
    "ComponentBase",
    "Component",
    "is_component_instance",
    "is_component_class",
    "TRUSTED_NAMESPACES_ENV",
    "WELL_KNOWN_PROVIDERS",
]

ComponentType = Literal["model", "agent", "tool", "termination", "token_provider", "workbench"] | str
ConfigT = TypeVar("ConfigT", bound=BaseModel)
FromConfigT = TypeVar("FromConfigT", bound=BaseModel, contravariant=True)
ToConfigT = TypeVar("ToConfigT", bound=BaseModel, covariant=True)
ExpectedType = TypeVar("ExpectedType")

TRUSTED_NAMESPACES_ENV = "ACTORGEN_ALLOWED_PROVIDER_NAMESPACES"
"""Comma-separated module prefixes that :meth:`ComponentLoader.load_component` may import besides ours."""

_BUILTIN_TRUSTED_NAMESPACES = ("actorgen_core.", "actorgen_agentchat.", "actorgen_ext.")

# Configs written by AutoGen name AutoGen's packages; the same path exists in ours.
_AUTOGEN_PACKAGE_RENAMES = {
    "autogen_core": "actorgen_core",
    "autogen_agentchat": "actorgen_agentchat",
    "autogen_ext": "actorgen_ext",
}

WELL_KNOWN_PROVIDERS = {
    "azure_openai_chat_completion_client": "actorgen_ext.models.openai.AzureOpenAIChatCompletionClient",
    "AzureOpenAIChatCompletionClient": "actorgen_ext.models.openai.AzureOpenAIChatCompletionClient",
    "openai_chat_completion_client": "actorgen_ext.models.openai.OpenAIChatCompletionClient",
    "OpenAIChatCompletionClient": "actorgen_ext.models.openai.OpenAIChatCompletionClient",
    "OllamaChatCompletionClient": "actorgen_ext.models.ollama.OllamaChatCompletionClient",
}
"""Short provider names accepted by ``load_component`` and the class path each one stands for."""


class ComponentModel(BaseModel):
    """The serialized form of a component: who builds it (``provider``) and with what (``config``)."""

    provider: str
    """Import path of the component class, e.g. ``actorgen_core.tools.FunctionTool``."""
    component_type: ComponentType | None = None
    version: int | None = None
    """Version of the config schema that produced ``config``."""
    component_version: int | None = None
    description: str | None = None
    label: str | None = None
    config: dict[str, Any]


def _type_to_provider_str(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


def _get_trusted_namespaces() -> list[str]:
    """Module prefixes (each ending in ``.``) that component loading may import."""
    namespaces = list(_BUILTIN_TRUSTED_NAMESPACES)
    for raw in os.environ.get(TRUSTED_NAMESPACES_ENV, "").split(","):
        prefix = raw.strip()
        if not prefix:
            continue
        namespaces.append(prefix if prefix.endswith(".") else prefix + ".")
    return namespaces


def _is_trusted_module(module_path: str) -> bool:
    for prefix in _get_trusted_namespaces():
        if module_path.startswith(prefix) or module_path == prefix[:-1]:
            return True
    return False


def _names_class(provider: str, cls: type) -> bool:
    """True when ``provider`` is the path ``cls`` dumps itself under (its override or its own)."""
    override = getattr(cls, "component_provider_override", None)
    return provider in (_type_to_provider_str(cls), override and _resolve_provider(override))


def _resolve_provider(provider: str) -> str:
    provider = WELL_KNOWN_PROVIDERS.get(provider, provider)
    package, dot, rest = provider.partition(".")
    renamed = _AUTOGEN_PACKAGE_RENAMES.get(package)
    if renamed is not None and dot:
        return f"{renamed}.{rest}"
    return provider


class ComponentFromConfig(Generic[FromConfigT]):
    """The loading half of a component: build an instance from a validated config."""

    @classmethod
    def _from_config(cls, config: FromConfigT) -> Self:
        raise NotImplementedError(f"{cls.__name__} does not implement _from_config")

    @classmethod
    def _from_config_past_version(cls, config: dict[str, Any], version: int) -> Self:
        raise NotImplementedError(f"{cls.__name__} does not implement _from_config_past_version")


class ComponentSchemaType(Generic[ConfigT]):
    """Declares the pydantic model that validates a component's config."""

    component_config_schema: type[ConfigT]
    required_class_vars: ClassVar[list[str]] = ["component_config_schema", "component_type"]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in ("Component", "_ConcreteComponent"):
            return
        for var in cls.required_class_vars:
            if not hasattr(cls, var):
                warnings.warn(
                    f"{cls.__name__} is missing the class variable {var!r} that every component must define",
                    stacklevel=2,
                )


class ComponentToConfig(Generic[ToConfigT]):
    """The dumping half of a component: describe an instance as a :class:`ComponentModel`."""

    component_type: ClassVar[ComponentType]
    component_version: ClassVar[int] = 1
    component_provider_override: ClassVar[str | None] = None
    component_description: ClassVar[str | None] = None
    component_label: ClassVar[str | None] = None

    def _to_config(self) -> ToConfigT:
        raise NotImplementedError(f"{type(self).__name__} does not implement _to_config")

    def dump_component(self) -> ComponentModel:
        cls = type(self)
        provider = cls.component_provider_override
        if provider is None:
            provider = _type_to_provider_str(cls)
            if "<locals>" in provider:
                raise TypeError(
                    f"Cannot dump {cls.__qualname__}: a class defined inside a function cannot be imported back"
                )
            if "._" in provider:
                warnings.warn(
                    f"Component provider {provider!r} names a private module; set component_provider_override "
                    "to the public import path",
                    stacklevel=2,
                )
        if not hasattr(cls, "component_type"):
            raise AttributeError("component_type not defined")
        description = cls.component_description
        if description is None:
            description = _description_from_docstring(cls)
        config = self._to_config().model_dump(exclude_none=True)
        return ComponentModel(
            provider=provider,
            component_type=cls.component_type,
            version=cls.component_version,
            component_version=cls.component_version,
            description=description,
            label=cls.component_label or cls.__name__,
            config=config,
        )


def _description_from_docstring(cls: type) -> str | None:
    # Only the class's own docstring: an inherited one describes another class.
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return None
    for marker in ("\n\nArgs:", "\n\nParameters:", "\n\nAttributes:", "\n\n"):
        if marker in doc:
            doc = doc.split(marker, 1)[0]
            break
    return str(doc).strip()


class ComponentLoader:
    """Loads any component from a :class:`ComponentModel` (or its dict form)."""

    @overload
    @classmethod
    def load_component(cls, model: ComponentModel | dict[str, Any], expected: None = None) -> Self: ...

    @overload
    @classmethod
    def load_component(cls, model: ComponentModel | dict[str, Any], expected: type[ExpectedType]) -> ExpectedType: ...

    @classmethod
    def load_component(
        cls, model: ComponentModel | dict[str, Any], expected: type[ExpectedType] | None = None
    ) -> Self | ExpectedType:
        """Import the provider class (only from a trusted namespace) and build it from the config.

        Raises:
            ValueError: the provider is malformed or its module is not in a trusted namespace.
            TypeError: the provider is not a component class, or the result is not of the expected type.
        """
        loaded_model = model if isinstance(model, ComponentModel) else ComponentModel.model_validate(model)
        provider = _resolve_provider(loaded_model.provider)
        module_path, dot, class_name = provider.rpartition(".")
        if not dot or not module_path or not class_name:
            raise ValueError(f"Invalid component provider {loaded_model.provider!r}: expected 'module.ClassName'")
        component_class: Any
        if _names_class(provider, cls):
            # `MyComponent.load_component(config)` for a config that names MyComponent: the
            # caller already holds the class, nothing is imported, so there is nothing to trust
            # (the class may well live in __main__, as in the component-config tutorial).
            component_class = cls
        else:
            if not _is_trusted_module(module_path):
                raise ValueError(
                    f"Component provider {loaded_model.provider!r} is not in a trusted namespace "
                    f"({', '.join(_get_trusted_namespaces())}); add its module prefix to {TRUSTED_NAMESPACES_ENV} "
                    "to allow it"
                )
            module = importlib.import_module(module_path)
            component_class = getattr(module, class_name, None)
            if component_class is None:
                raise ValueError(f"Component provider {loaded_model.provider!r}: {module_path} has no {class_name}")
        if not is_component_class(component_class):
            raise TypeError(f"Invalid component class: {provider} is not a component")
        if not hasattr(component_class, "component_config_schema"):
            raise AttributeError(f"{provider} does not define component_config_schema")
        if not hasattr(component_class, "component_type"):
            raise AttributeError(f"{provider} does not define component_type")

        class_version = component_class.component_version
        version = loaded_model.component_version or class_version
        instance: Any
        if version < class_version:
            try:
                instance = component_class._from_config_past_version(loaded_model.config, version)
            except NotImplementedError as e:
                raise NotImplementedError(
                    f"{provider} is at config version {class_version} and cannot load version {version}: "
                    "it does not implement _from_config_past_version"
                ) from e
        else:
            config = component_class.component_config_schema.model_validate(loaded_model.config)
            instance = component_class._from_config(config)

        if expected is None:
            if not isinstance(instance, cls):
                raise TypeError(
                    f"Expected type does not match: loaded a {type(instance).__name__}, "
                    f"expected an instance of {cls.__name__}"
                )
            return instance
        if not isinstance(instance, expected):
            raise TypeError(
                f"Expected type does not match: loaded a {type(instance).__name__}, "
                f"expected an instance of {expected.__name__}"
            )
        return instance


class ComponentBase(ComponentToConfig[ConfigT], ComponentLoader, Generic[ConfigT]):
    """Base for abstract component kinds (a tool, a memory, ...): can dump and load."""


class Component(ComponentFromConfig[ConfigT], ComponentSchemaType[ConfigT], Generic[ConfigT]):
    """Mixin for concrete components: declares the config schema and builds from it.

    A concrete component class derives from both a :class:`ComponentBase` kind and
    ``Component[ConfigT]``, and defines ``component_type``, ``component_config_schema``,
    ``_to_config`` and ``_from_config``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not is_component_class(cls):
            warnings.warn(
                f"{cls.__name__} derives from Component but not from ComponentBase (or ComponentToConfig and "
                "ComponentLoader); it cannot be dumped or loaded",
                stacklevel=2,
            )


_COMPONENT_MIXINS = (ComponentFromConfig, ComponentToConfig, ComponentSchemaType, ComponentLoader)


def is_component_instance(cls: Any) -> bool:
    return all(isinstance(cls, mixin) for mixin in _COMPONENT_MIXINS)


def is_component_class(cls: type) -> bool:
    return isinstance(cls, type) and all(issubclass(cls, mixin) for mixin in _COMPONENT_MIXINS)
