"""The distributed runtime: a host process routes messages between worker processes.

Needs the ``grpc`` extra: ``pip install 'actorgen-core[grpc]'``.
"""

from __future__ import annotations

try:
    import grpc  # noqa: F401
    import grpc_health.v1.health  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "The gRPC runtime needs grpcio and grpcio-health-checking: pip install 'actorgen-core[grpc]'"
    ) from e

from ...base._public_module import set_public_module as _set_public_module
from ._errors import HostUnavailableError, RemoteHandlerError, WireValidationError, WorkerLostError
from ._host import GrpcWorkerAgentRuntimeHost
from ._wire import PROTOCOL_VERSION
from ._worker import GrpcWorkerAgentRuntime

__all__ = [
    "GrpcWorkerAgentRuntime",
    "GrpcWorkerAgentRuntimeHost",
    "HostUnavailableError",
    "PROTOCOL_VERSION",
    "RemoteHandlerError",
    "WireValidationError",
    "WorkerLostError",
]

_set_public_module(__name__, globals())
