"""Make the classes and functions a public package exports report that package as their module.

Code lives in private modules (``models/_types.py``) and is exported from the package
(``actorgen_core.models``). Without this, ``repr(cls)``, tracebacks, generated docs and
component provider strings would show the private path. httpx does the same in its
``__init__``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping


def set_public_module(package: str, namespace: Mapping[str, object]) -> None:
    """Set ``__module__ = package`` on every class and function in ``namespace["__all__"]``.

    Only objects defined inside actorgen_core are touched; a name re-exported from another
    library keeps its own module. Constants, aliases and typing constructs have no
    ``__module__`` of their own to fix and are skipped.
    """
    exported = namespace["__all__"]
    assert isinstance(exported, list)
    for name in exported:
        obj = namespace[name]
        if not (isinstance(obj, type) or inspect.isfunction(obj)):
            continue
        if obj.__module__.startswith("actorgen_core."):
            obj.__module__ = package
