"""Waiting for a stop signal, for the host's and the worker's ``stop_when_signal``."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

DEFAULT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def until_signal(signals: Sequence[signal.Signals] = DEFAULT_SIGNALS) -> None:
    """Return when one of ``signals`` arrives; the handlers are removed again either way."""
    loop = asyncio.get_running_loop()
    received = asyncio.Event()
    for sig in signals:
        loop.add_signal_handler(sig, received.set)
    try:
        await received.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
