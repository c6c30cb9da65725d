"""actorgen_agentchat builds on public names only: no private module of actorgen_core or actorgen_ext."""

from __future__ import annotations

import ast
from pathlib import Path

import actorgen_agentchat

PACKAGE = Path(actorgen_agentchat.__file__).parent


def test_agentchat_imports_only_public_modules_of_core_and_ext() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] in ("actorgen_core", "actorgen_ext") and any(p.startswith("_") for p in parts[1:]):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(PACKAGE.glob("*.py"))) > 5  # the scan saw the package
