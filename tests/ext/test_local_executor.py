"""LocalCommandLineCodeExecutor: results, process-group killing, caps, languages, working dir."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actorgen_core import CancellationToken, ComponentModel
from actorgen_core.code_executor import CodeBlock, CodeExecutor, with_requirements
from actorgen_ext.code_executors.local import CommandLineCodeResult, LocalCommandLineCodeExecutor

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie waiting to be reaped counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def _wait_dead(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


# A child that starts a grandchild in the same process group, records its pid, then waits.
SPAWN_GRANDCHILD = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open("grandchild.pid", "w") as f:
        f.write(str(child.pid))
    print("spawned", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
async def executor(tmp_path: Path) -> AsyncIterator[LocalCommandLineCodeExecutor]:
    async with LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path) as ex:
        yield ex


async def test_python_success(executor: LocalCommandLineCodeExecutor) -> None:
    result = await executor.execute_code_blocks([CodeBlock("print(6 * 7)", "python")], CancellationToken())
    assert isinstance(result, CommandLineCodeResult)
    assert (result.exit_code, result.output) == (0, "42\n")
    assert result.code_file is not None and result.code_file.endswith(".py")
    assert not Path(result.code_file).exists()  # cleanup_temp_files


async def test_nonzero_exit_stops_the_run(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    blocks = [
        CodeBlock("echo first; exit 3", "sh"),
        CodeBlock("open('second_ran', 'w').close()", "python"),
    ]
    result = await executor.execute_code_blocks(blocks, CancellationToken())
    assert result.exit_code == 3
    assert result.output == "first\n"
    assert not (tmp_path / "second_ran").exists()


async def test_stdout_and_stderr_are_captured_in_order(executor: LocalCommandLineCodeExecutor) -> None:
    code = "import sys\nprint('out1')\nprint('err1', file=sys.stderr)\nprint('out2')\nraise SystemExit(2)"
    result = await executor.execute_code_blocks([CodeBlock(code, "python")], CancellationToken())
    assert result.exit_code == 2
    assert result.output == "out1\nerr1\nout2\n"


async def test_blocks_share_the_working_dir_and_output(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    blocks = [
        CodeBlock("import os; print(os.getcwd()); open('made.txt', 'w').write('hi')", "python"),
        CodeBlock("cat made.txt; echo", "bash"),
    ]
    result = await executor.execute_code_blocks(blocks, CancellationToken())
    assert result.exit_code == 0
    assert result.output == f"{tmp_path.resolve()}\nhi\n"
    assert (tmp_path / "made.txt").read_text() == "hi"


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    ex = LocalCommandLineCodeExecutor(timeout=1.5, work_dir=tmp_path)
    started = time.monotonic()
    result = await ex.execute_code_blocks([CodeBlock(SPAWN_GRANDCHILD, "python")], CancellationToken())
    assert time.monotonic() - started < 6
    assert result.exit_code == 124
    assert result.output.startswith("spawned\n")
    assert "Timeout" in result.output
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    assert await _wait_dead(grandchild)


async def test_background_processes_do_not_outlive_a_finished_block(
    executor: LocalCommandLineCodeExecutor, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = await executor.execute_code_blocks(
        [CodeBlock("sleep 60 &\necho $! > bg.pid\necho done", "sh")], CancellationToken()
    )
    # The background sleep holds our output pipe; the block must still end promptly.
    assert time.monotonic() - started < 5
    assert (result.exit_code, result.output) == (0, "done\n")
    assert await _wait_dead(int((tmp_path / "bg.pid").read_text()))


async def test_cancellation_token_kills_the_process_group(
    executor: LocalCommandLineCodeExecutor, tmp_path: Path
) -> None:
    token = CancellationToken()
    task = asyncio.create_task(executor.execute_code_blocks([CodeBlock(SPAWN_GRANDCHILD, "python")], token))
    pid_file = tmp_path / "grandchild.pid"
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.025)
    token.cancel()
    result = await asyncio.wait_for(task, 5)
    assert result.exit_code == 125
    assert "Cancelled" in result.output
    assert await _wait_dead(int(pid_file.read_text()))


async def test_cancelling_the_calling_task_kills_the_process_group(
    executor: LocalCommandLineCodeExecutor, tmp_path: Path
) -> None:
    task = asyncio.create_task(
        executor.execute_code_blocks([CodeBlock(SPAWN_GRANDCHILD, "python")], CancellationToken())
    )
    pid_file = tmp_path / "grandchild.pid"
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.025)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _wait_dead(int(pid_file.read_text()))


async def test_output_is_capped_with_a_marker(tmp_path: Path) -> None:
    ex = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path, max_output_bytes=1000)
    # 5 MB: far more than a pipe buffer, so a reader that stopped at the cap would deadlock.
    code = "import sys\nsys.stdout.write('x' * 5_000_000)\nprint()\nprint('end')"
    result = await ex.execute_code_blocks([CodeBlock(code, "python")], CancellationToken())
    assert result.exit_code == 0
    assert result.output.startswith("x" * 1000 + "\n[output truncated: ")
    assert result.output.endswith(f"{5_000_000 + 1 + 4 - 1000} more bytes]")


async def test_unsupported_language_runs_nothing(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    blocks = [CodeBlock("open('ran', 'w').close()", "python"), CodeBlock("DISPLAY 'HI'.", "cobol")]
    result = await executor.execute_code_blocks(blocks, CancellationToken())
    assert result.exit_code == 1
    assert "Unsupported language 'cobol'" in result.output
    assert result.code_file is None
    assert list(tmp_path.iterdir()) == []


async def test_filename_comment_names_the_file_and_cannot_escape(tmp_path: Path) -> None:
    ex = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path / "work", cleanup_temp_files=False)
    await ex.start()
    result = await ex.execute_code_blocks(
        [CodeBlock("# filename: app/main.py\nprint('ok')", "python")], CancellationToken()
    )
    assert (result.exit_code, result.output) == (0, "ok\n")
    assert Path(result.code_file or "") == (tmp_path / "work" / "app" / "main.py").resolve()
    escaped = await ex.execute_code_blocks(
        [CodeBlock("# filename: ../evil.py\nprint('no')", "python")], CancellationToken()
    )
    assert escaped.exit_code == 1
    assert "outside the working directory" in escaped.output
    assert not (tmp_path / "evil.py").exists()


async def test_default_work_dir_is_temporary_and_removed_on_stop() -> None:
    ex = LocalCommandLineCodeExecutor(timeout=10)
    async with ex:
        work_dir = ex.work_dir
        result = await ex.execute_code_blocks(
            [CodeBlock("import os; print(os.getcwd())", "python")], CancellationToken()
        )
        assert result.output.strip() == str(work_dir.resolve())
        assert work_dir.is_dir()
    assert not work_dir.exists()


async def test_functions_are_importable_from_the_functions_module(tmp_path: Path) -> None:
    @with_requirements(global_imports=["math"])
    def hypotenuse(a: float, b: float) -> float:
        """Length of the hypotenuse."""
        return math.hypot(a, b)  # type: ignore[name-defined]  # noqa: F821  (imported in the generated module)

    ex = LocalCommandLineCodeExecutor(timeout=10, work_dir=tmp_path, functions=[hypotenuse], functions_module="tools")
    assert ex.functions == ["hypotenuse"]
    assert "def hypotenuse(a: float, b: float) -> float:" in ex.format_functions_for_prompt()
    result = await ex.execute_code_blocks(
        [CodeBlock("from tools import hypotenuse\nprint(hypotenuse(3, 4))", "python")], CancellationToken()
    )
    assert (result.exit_code, result.output) == (0, "5.0\n")


async def test_component_round_trip(tmp_path: Path) -> None:
    ex = LocalCommandLineCodeExecutor(timeout=7, work_dir=tmp_path, max_output_bytes=123, cleanup_temp_files=False)
    model = ex.dump_component()
    assert model.provider == "actorgen_ext.code_executors.local.LocalCommandLineCodeExecutor"
    assert model.component_type == "code_executor"
    loaded = CodeExecutor.load_component(ComponentModel.model_validate_json(model.model_dump_json()))
    assert isinstance(loaded, LocalCommandLineCodeExecutor)
    assert (loaded.timeout, loaded.work_dir, loaded.max_output_bytes, loaded.cleanup_temp_files) == (
        7,
        tmp_path,
        123,
        False,
    )


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="timeout"):
        LocalCommandLineCodeExecutor(timeout=0)
    with pytest.raises(ValueError, match="identifier"):
        LocalCommandLineCodeExecutor(functions_module="not a module")


def test_uses_the_running_interpreter() -> None:
    assert LocalCommandLineCodeExecutor()._python() == sys.executable


@pytest.mark.skipif(shutil.which("setsid") is None, reason="needs setsid(1)")
async def test_a_process_that_leaves_the_group_cannot_hang_the_executor(
    executor: LocalCommandLineCodeExecutor, tmp_path: Path
) -> None:
    # setsid puts the sleeper in its own session (out of reach of killpg) while it keeps our
    # output pipe open; the executor must give up on the pipe after a short grace period.
    code = "setsid sh -c 'echo $$ > escaped.pid; exec sleep 30' &\nsleep 0.2\necho done"
    started = time.monotonic()
    try:
        result = await executor.execute_code_blocks([CodeBlock(code, "sh")], CancellationToken())
        assert time.monotonic() - started < 5
        assert (result.exit_code, result.output) == (0, "done\n")
    finally:
        pid_file = tmp_path / "escaped.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), 9)
