"""The README's code runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_first_agent_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks, "the README has no python example"
    script = tmp_path / "example.py"
    script.write_text(blocks[0], encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "echo: hi"


def test_readme_quick_start_names_the_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install uv && uv run python samples/hello_world.py" in readme
    test_lines = [line.split("#")[0].strip() for line in readme.splitlines() if line.endswith("# the whole test suite")]
    assert len(test_lines) == 1 and "pytest" in test_lines[0]
    # CI's last step is the README's test command, verbatim, with the lock file honoured
    last_line = [line for line in ci.splitlines() if line.strip()][-1]
    assert last_line == test_lines[0]
    assert "--frozen" in last_line
