"""Fixtures shared by every test package."""

from __future__ import annotations

import pytest


@pytest.fixture
def trust_test_components(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let component loading import component classes defined in this test suite.

    Loading a component imports its provider, so actorgen_core only imports from trusted
    namespaces. Tests opt in exactly as users do, through the allow-list variable; nothing
    is trusted because its module name starts with ``test_``.
    """
    monkeypatch.setenv("ACTORGEN_ALLOWED_PROVIDER_NAMESPACES", "tests")
