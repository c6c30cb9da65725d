"""The committed generated code is what scripts/gen_proto.sh makes from the committed .proto."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from actorgen_core.application.grpc import PROTOCOL_VERSION
from actorgen_core.application.grpc._proto import actorgen_wire_pb2 as pb

PROTO_DIR = Path(pb.__file__).parent


def test_generated_code_matches_the_proto(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}", f"--python_out={tmp_path}",
         f"--pyi_out={tmp_path}", "actorgen_wire.proto"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    for name in ("actorgen_wire_pb2.py", "actorgen_wire_pb2.pyi"):
        assert (tmp_path / name).read_text() == (PROTO_DIR / name).read_text(), f"{name} is stale: run gen_proto.sh"


def test_package_name_carries_the_protocol_version() -> None:
    assert pb.DESCRIPTOR.package == f"actorgen.wire.v{PROTOCOL_VERSION}"
