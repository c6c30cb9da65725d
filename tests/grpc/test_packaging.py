"""The gRPC runtime is an extra: the application package imports without it, and says what to install."""

from __future__ import annotations

import subprocess
import sys

from actorgen_core import application
from actorgen_core.application import grpc as grpc_runtime

_WITHOUT_GRPC = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "grpc" or name.startswith(("grpc.", "grpc_health")):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Block())
import actorgen_core.application as app
print(app.SingleThreadedAgentRuntime.__name__)
try:
    app.GrpcWorkerAgentRuntime
except ImportError as e:
    print("ImportError:", e)
"""


def test_application_imports_without_grpcio_and_names_the_extra() -> None:
    result = subprocess.run([sys.executable, "-c", _WITHOUT_GRPC], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "SingleThreadedAgentRuntime"
    assert lines[1].startswith("ImportError:") and "actorgen-core[grpc]" in lines[1]


def test_public_names() -> None:
    assert application.GrpcWorkerAgentRuntime is grpc_runtime.GrpcWorkerAgentRuntime
    assert application.GrpcWorkerAgentRuntimeHost is grpc_runtime.GrpcWorkerAgentRuntimeHost
    assert issubclass(grpc_runtime.GrpcWorkerAgentRuntime, application.SingleThreadedAgentRuntime)
    assert {"GrpcWorkerAgentRuntime", "GrpcWorkerAgentRuntimeHost"} <= set(application.__all__)
    assert all(not name.startswith("_") for name in grpc_runtime.__all__)
