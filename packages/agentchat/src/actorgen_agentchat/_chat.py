"""What a chat returns, and sequential chats that pass summaries on as carryover."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._loop import call_user, run_sync
from ._messages import Message, content_str

if TYPE_CHECKING:
    from ._conversable_agent import ConversableAgent


@dataclass
class ChatResult:
    """The outcome of ``initiate_chat``.

    Attributes:
        chat_id: the ``chat_id`` given in a chat queue, else None.
        chat_history: the initiator's history with the recipient (for a group chat: with the
            manager, which holds every message of the group).
        summary: per ``summary_method``.
        cost: tokens and cost per model, spent by both agents during this chat.
        human_input: what humans typed during the chat.
        stop_reason: why the chat ended, e.g. "bob received a termination message".
    """

    chat_id: int | None = None
    chat_history: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    cost: dict[str, Any] = field(default_factory=dict)
    human_input: list[str] = field(default_factory=list)
    stop_reason: str | None = None


def carryover_text(carryover: str | Sequence[Any] | None) -> str:
    """Carryover items as text, one per line (a dict contributes its content)."""
    if carryover is None:
        return ""
    items = [carryover] if isinstance(carryover, str) else list(carryover)
    lines = []
    for item in items:
        if isinstance(item, dict):
            lines.append(str(item.get("content", "")))
        else:
            lines.append(str(item))
    return "\n".join(line for line in lines if line)


def with_carryover(message: str | dict[str, Any], carryover: str | Sequence[Any] | None) -> str | dict[str, Any]:
    """The message with "Context:" and the carryover appended (to the text of a dict message)."""
    text = carryover_text(carryover)
    if not text:
        return message
    if isinstance(message, str):
        return f"{message}\nContext:\n{text}"
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": f"{content}\nContext:\n{text}"}
    if isinstance(content, list):
        return {**message, "content": [*content, {"type": "text", "text": f"Context:\n{text}"}]}
    raise ValueError("carryover needs a message whose content is a str or a list of parts")


def _carryover_for(entry: dict[str, Any], finished: Sequence[ChatResult]) -> list[Any]:
    given = entry.get("carryover")
    items: list[Any] = [] if given is None else ([given] if isinstance(given, str) else list(given))
    excluded = set(entry.get("finished_chat_indexes_to_exclude_from_carryover") or ())
    items.extend(result.summary for index, result in enumerate(finished) if index not in excluded)
    return items


_NOT_CHAT_ARGS = frozenset({"sender", "recipient", "finished_chat_indexes_to_exclude_from_carryover", "prerequisites"})


async def run_chat_queue(chat_queue: Sequence[dict[str, Any]]) -> list[ChatResult]:
    """Run the chats of ``chat_queue`` one after the other; each one's carryover is its own
    ``carryover`` plus the summaries of the chats before it (minus the excluded indexes)."""
    finished: list[ChatResult] = []
    for number, raw in enumerate(chat_queue):
        entry = dict(raw)
        entry["carryover"] = _carryover_for(entry, finished)
        finished.append(await _run_entry(number, entry))
    return finished


async def _run_entry(number: int, entry: dict[str, Any]) -> ChatResult:
    if "sender" not in entry or "recipient" not in entry:
        raise ValueError(f"Chat {number} of the queue needs both 'sender' and 'recipient'")
    sender: ConversableAgent = entry["sender"]
    if "message" not in entry:
        warnings.warn(f"Chat {number} of the queue has no 'message': the human is asked", stacklevel=3)
    if not entry.get("silent", False):
        print(f"\n*** chat {number}: {sender.name} → {entry['recipient'].name} ***\n", flush=True)
    kwargs = {key: value for key, value in entry.items() if key not in _NOT_CHAT_ARGS}
    return await sender.a_initiate_chat(entry["recipient"], **kwargs)


def initiate_chats(chat_queue: Sequence[dict[str, Any]]) -> list[ChatResult]:
    """Run the chats of ``chat_queue`` in order, passing each finished chat's summary on as
    carryover to the chats after it; returns their results in order."""
    return run_sync(lambda: run_chat_queue(chat_queue))


async def a_initiate_chats(chat_queue: Sequence[dict[str, Any]]) -> dict[int, ChatResult]:
    """Run the chats of ``chat_queue``, each after its ``prerequisites`` (a list of chat_ids),
    one at a time; a chat's carryover is its own plus its prerequisites' summaries. Returns the
    results by ``chat_id`` (an entry without one gets its index)."""
    entries = {int(raw.get("chat_id", index)): dict(raw) for index, raw in enumerate(chat_queue)}
    if len(entries) != len(chat_queue):
        raise ValueError("Every chat of the queue needs a unique chat_id")
    results: dict[int, ChatResult] = {}
    pending = list(entries)
    while pending:
        ready = [
            chat_id for chat_id in pending if all(p in results for p in entries[chat_id].get("prerequisites") or ())
        ]
        if not ready:
            raise ValueError(f"The prerequisites of chats {pending} can never be met (a cycle or an unknown chat_id)")
        for chat_id in ready:
            entry = entries[chat_id]
            given = entry.get("carryover")
            carryover: list[Any] = [] if given is None else ([given] if isinstance(given, str) else list(given))
            carryover.extend(results[p].summary for p in entry.get("prerequisites") or ())
            entry["carryover"] = carryover
            entry["chat_id"] = chat_id
            results[chat_id] = await _run_entry(chat_id, entry)
            pending.remove(chat_id)
    return results


async def summary_from_nested_chats(
    chat_queue: list[dict[str, Any]], recipient: ConversableAgent, messages: list[Message], sender: Any, config: Any
) -> tuple[bool, str | None]:
    """Run the nested chats (the first one's message defaulting to the last message received)
    and reply with the summary of the last one."""
    queue: list[dict[str, Any]] = []
    for index, raw in enumerate(chat_queue):
        entry = dict(raw)
        entry.setdefault("sender", recipient)
        given = entry.get("message")
        if given is None and index == 0:
            given = content_str(messages[-1].get("content")) if messages else ""
        if callable(given):
            given = await call_user(given, recipient, messages, sender, config)
        if not given:
            continue
        entry["message"] = given
        queue.append(entry)
    if not queue:
        return True, None
    results = await run_chat_queue(queue)
    return True, results[-1].summary
