"""actorgen_agentchat uses actorgen_ext through its public modules only.

(That it uses only public names of actorgen_core is pinned by tests/core/test_layers.py.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import actorgen_agentchat

PACKAGE = Path(actorgen_agentchat.__file__).parent


def test_agentchat_imports_only_public_modules_of_ext() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules, names = [node.module], [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                modules, names = [alias.name for alias in node.names], []
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] == "actorgen_ext" and (
                    any(p.startswith("_") for p in parts[1:]) or any(n.startswith("_") for n in names)
                ):
                    offenders.append(f"{path.name}: {module} {names}")
    assert offenders == []
    assert any("actorgen_ext" in path.read_text() for path in PACKAGE.glob("*.py"))  # the scan has work to do
