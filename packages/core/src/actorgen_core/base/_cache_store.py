"""A minimal key-value cache interface (used e.g. by caching model clients) and an in-memory store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, Self, TypeVar

from pydantic import BaseModel

from ._component_config import Component, ComponentBase

__all__ = ["CacheStore", "InMemoryStore", "InMemoryStoreConfig"]

T = TypeVar("T")


class CacheStore(ABC, Generic[T], ComponentBase[BaseModel]):
    """A store mapping string keys to values of type ``T``."""

    component_type = "cache_store"

    @abstractmethod
    def get(self, key: str, default: T | None = None) -> T | None:
        """The value stored under ``key``, or ``default``."""

    @abstractmethod
    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""


class InMemoryStoreConfig(BaseModel):
    pass


class InMemoryStore(CacheStore[T], Component[InMemoryStoreConfig]):
    """A cache store kept in a dict; its contents are not part of its config."""

    component_provider_override = "actorgen_core.InMemoryStore"
    component_config_schema = InMemoryStoreConfig

    def __init__(self) -> None:
        self.store: dict[str, T] = {}

    def get(self, key: str, default: T | None = None) -> T | None:
        return self.store.get(key, default)

    def set(self, key: str, value: T) -> None:
        self.store[key] = value

    def _to_config(self) -> InMemoryStoreConfig:
        return InMemoryStoreConfig()

    @classmethod
    def _from_config(cls, config: InMemoryStoreConfig) -> Self:
        return cls()
