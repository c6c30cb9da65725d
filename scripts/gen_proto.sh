#!/usr/bin/env bash
# Regenerate the Python code for actorgen's wire protocol (needs the dev group: grpcio-tools).
# Usage: scripts/gen_proto.sh   (from anywhere in the repository)
# The generated module checks the protobuf runtime at import: after regenerating with a newer
# grpcio-tools, raise the protobuf floor of the grpc extra (packages/core/pyproject.toml) to match.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/packages/core/src/actorgen_core/application/grpc/_proto"
cd "$out"
uv run --project "$root" python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. actorgen_wire.proto
echo "regenerated $out"
