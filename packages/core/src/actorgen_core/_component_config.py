"""Import path kept for code written against ``autogen_core._component_config``."""

from .base._component_config import (
    WELL_KNOWN_PROVIDERS,
    Component,
    ComponentBase,
    ComponentFromConfig,
    ComponentLoader,
    ComponentModel,
    ComponentSchemaType,
    ComponentToConfig,
    ComponentType,
    is_component_class,
    is_component_instance,
)
from .base._component_config import _get_trusted_namespaces as _get_trusted_namespaces
from .base._component_config import _type_to_provider_str as _type_to_provider_str

__all__ = [
    "WELL_KNOWN_PROVIDERS",
    "Component",
    "ComponentBase",
    "ComponentFromConfig",
    "ComponentLoader",
    "ComponentModel",
    "ComponentSchemaType",
    "ComponentToConfig",
    "ComponentType",
    "is_component_class",
    "is_component_instance",
]
