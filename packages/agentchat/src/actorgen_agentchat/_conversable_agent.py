"""ConversableAgent: v0.2's conversation API, with an actor on a runtime underneath.

One async reply pipeline serves the synchronous and the asynchronous API alike. A
conversation between two agents is a loop of runtime requests, one per message: the
recipient's actor records the message, runs its reply pipeline and answers with its reply (or
with None and the reason it stays silent); the loop hands that reply to the other agent's actor.
No agent ever calls another directly, and no stack grows with the number of turns.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import math
import re
import warnings
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Literal

from actorgen_core import AgentId, AgentRuntime, CancellationToken, TypeSubscription
from actorgen_core.code_executor import CodeExecutor
from actorgen_core.models import ChatCompletionClient
from actorgen_core.tools import FunctionTool, ToolSchema

from ._actor import (
    CURRENT_RUNTIME,
    ChatActor,
    Delivery,
    GroupBroadcast,
    Outcome,
    PrepareChat,
    TakeTurn,
    actor_type,
    agent_by_uid,
    allocate_uid,
    register_agent,
    request,
)
from ._agent import Agent
from ._chat import ChatResult, a_initiate_chats, run_chat_queue, summary_from_nested_chats, with_carryover
from ._code import execution_reply, extract_code_blocks, make_executor
from ._llm import ModelCaller, UsageTotals, tool_schema_from_v02, usage_summary
from ._loop import call_user, on_loop_of, run_sync, runtime_for
from ._messages import Message, content_str, dumps, normalize, render, reply_from_result, to_llm_messages

logger = logging.getLogger("actorgen_agentchat")

ReplyFunc = Callable[..., Any]
HumanInputMode = Literal["ALWAYS", "NEVER", "TERMINATE"]

_HOOKABLE = ("process_last_received_message", "process_all_messages_before_reply", "process_message_before_send")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _default_is_termination_msg(message: Message) -> bool:
    return content_str(message.get("content")) == "TERMINATE"


class ConversableAgent:
    """An agent that converses: it keeps one history per peer and replies through an ordered
    list of reply functions (termination and human input, tool calls, code execution, model).

    The constructor takes v0.2's arguments; ``runtime`` (keyword only) chooses the runtime its
    actor runs on (default: an implicit SingleThreadedAgentRuntime per event loop).
    """

    _is_remote = False  # a stand-in for an agent living in another process (see RemoteAgent)
    DEFAULT_CONFIG: Any = False
    MAX_CONSECUTIVE_AUTO_REPLY = 100
    DEFAULT_SUMMARY_METHOD = "last_msg"
    DEFAULT_SUMMARY_PROMPT = (
        "Write the outcome of this conversation in a few sentences, as a plain statement of what "
        "was decided or found; no preamble."
    )

    def __init__(
        self,
        name: str,
        system_message: str | list[str] | None = "You are a helpful AI assistant.",
        is_termination_msg: Callable[[Message], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: HumanInputMode = "TERMINATE",
        function_map: Mapping[str, Callable[..., Any]] | None = None,
        code_execution_config: dict[str, Any] | Literal[False] | None = False,
        llm_config: dict[str, Any] | ChatCompletionClient | Literal[False] | None = None,
        default_auto_reply: str | Message = "",
        description: str | None = None,
        chat_messages: dict[Any, list[Message]] | None = None,
        silent: bool | None = None,
        *,
        runtime: AgentRuntime | None = None,
    ) -> None:
        if human_input_mode not in ("ALWAYS", "NEVER", "TERMINATE"):
            raise ValueError(f"human_input_mode must be 'ALWAYS', 'TERMINATE' or 'NEVER', got {human_input_mode!r}")
        self._name = name
        self._uid = name if self._is_remote else allocate_uid(name)
        register_agent(self._uid, self, standin=self._is_remote)
        if isinstance(system_message, list):
            system_message = "\n".join(system_message)
        self._oai_system_message = [{"content": system_message or "", "role": "system"}]
        self._description = description if description is not None else (system_message or "")
        self._is_termination_msg = is_termination_msg or _default_is_termination_msg
        self._max_consecutive_auto_reply = (
            max_consecutive_auto_reply if max_consecutive_auto_reply is not None else self.MAX_CONSECUTIVE_AUTO_REPLY
        )
        self._consecutive_auto_reply_counter: defaultdict[Any, int] = defaultdict(int)
        self._max_consecutive_auto_reply_dict: defaultdict[Any, int] = defaultdict(
            lambda: self._max_consecutive_auto_reply
        )
        self.human_input_mode: HumanInputMode = human_input_mode
        self._function_map: dict[str, Callable[..., Any]] = {}
        if function_map:
            self.register_function(function_map)
        self._default_auto_reply = default_auto_reply
        self._oai_messages: defaultdict[Any, list[Message]] = defaultdict(list)
        if chat_messages:
            for peer, history in chat_messages.items():
                self._oai_messages[peer] = list(history)
        self.reply_at_receive: defaultdict[Any, bool] = defaultdict(bool)
        self._reply_func_list: list[dict[str, Any]] = []
        self.hook_lists: dict[str, list[Callable[..., Any]]] = {name: [] for name in _HOOKABLE}
        self._human_input: list[str] = []
        self._decline_reasons: dict[Any, str] = {}
        self._finished_chats: list[ChatResult] = []
        self._silent = silent
        self._runtime = runtime
        self._actor_ids: weakref.WeakKeyDictionary[AgentRuntime, asyncio.Task[AgentId]] = weakref.WeakKeyDictionary()
        self._subscribed: weakref.WeakKeyDictionary[AgentRuntime, set[str]] = weakref.WeakKeyDictionary()
        self._tools: list[ToolSchema] = []

        self.llm_config: dict[str, Any] | ChatCompletionClient | Literal[False]
        if llm_config is None:
            llm_config = self.DEFAULT_CONFIG
        if llm_config is False:
            self.llm_config = False
            self.client: ModelCaller | None = None
        elif isinstance(llm_config, ChatCompletionClient):
            self.llm_config = llm_config
            self.client = ModelCaller(llm_config)
        elif isinstance(llm_config, dict):
            if not llm_config:
                raise ValueError("llm_config is an empty dict: give a config_list, or llm_config=False for no model")
            config = copy.deepcopy(llm_config)
            self.llm_config = config
            self.client = ModelCaller(config)
            for tool in config.get("tools") or []:
                self._tools.append(tool_schema_from_v02(tool))
        else:
            raise TypeError(f"llm_config must be False, a dict or a ChatCompletionClient, got {type(llm_config)}")

        if code_execution_config is None:
            warnings.warn("code_execution_config=None is deprecated: use False or a dict", DeprecationWarning, 2)
            code_execution_config = {}
        self._code_execution_config: dict[str, Any] | Literal[False] = (
            dict(code_execution_config) if isinstance(code_execution_config, dict) else False
        )
        self._code_executor: CodeExecutor | None = None
        if self._code_execution_config is not False:
            self._code_executor = make_executor(self._code_execution_config)

        # Registered in reverse: the last registered runs first.
        self.register_reply([Agent, None], ConversableAgent.a_generate_oai_reply)
        if self._code_executor is not None:
            self.register_reply([Agent, None], ConversableAgent.a_generate_code_execution_reply)
        self.register_reply([Agent, None], ConversableAgent.a_generate_tool_calls_reply)
        self.register_reply([Agent, None], ConversableAgent.a_check_termination_and_human_reply)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"

    # ------------------------------------------------------------------ attributes

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @description.setter
    def description(self, description: str) -> None:
        self._description = description

    @property
    def system_message(self) -> str:
        return str(self._oai_system_message[0]["content"])

    def update_system_message(self, system_message: str) -> None:
        self._oai_system_message[0]["content"] = system_message

    @property
    def chat_messages(self) -> dict[Any, list[Message]]:
        """The history with each peer, keyed by the peer agent."""
        return self._oai_messages

    def chat_messages_for_summary(self, agent: Any) -> list[Message]:
        return self._oai_messages[agent]

    def last_message(self, agent: Any = None) -> Message | None:
        """The last message with ``agent`` (may be omitted when there is one conversation)."""
        if agent is None:
            peers = [peer for peer, history in self._oai_messages.items() if history]
            if not peers:
                return None
            if len(peers) > 1:
                raise ValueError("More than one conversation is found: say which agent's last message you want")
            return self._oai_messages[peers[0]][-1]
        if agent not in self._oai_messages:
            raise KeyError(f"{self.name} has no conversation with {getattr(agent, 'name', agent)}")
        history = self._oai_messages[agent]
        return history[-1] if history else None

    @property
    def function_map(self) -> dict[str, Callable[..., Any]]:
        return self._function_map

    @property
    def use_docker(self) -> bool:
        return False

    @property
    def code_executor(self) -> CodeExecutor | None:
        return self._code_executor

    @property
    def tools(self) -> list[ToolSchema]:
        """The tool schemas this agent offers its model."""
        return list(self._tools)

    def get_chat_results(self, chat_index: int | None = None) -> list[ChatResult] | ChatResult:
        return self._finished_chats if chat_index is None else self._finished_chats[chat_index]

    # ------------------------------------------------------------------ counters and history

    def max_consecutive_auto_reply(self, sender: Any = None) -> int:
        return self._max_consecutive_auto_reply if sender is None else self._max_consecutive_auto_reply_dict[sender]

    def update_max_consecutive_auto_reply(self, value: int, sender: Any = None) -> None:
        if sender is None:
            self._max_consecutive_auto_reply = value
            for peer in self._max_consecutive_auto_reply_dict:
                self._max_consecutive_auto_reply_dict[peer] = value
        else:
            self._max_consecutive_auto_reply_dict[sender] = value

    def reset_consecutive_auto_reply_counter(self, sender: Any = None) -> None:
        if sender is None:
            self._consecutive_auto_reply_counter.clear()
        else:
            self._consecutive_auto_reply_counter[sender] = 0

    def stop_reply_at_receive(self, sender: Any = None) -> None:
        if sender is None:
            self.reply_at_receive.clear()
        else:
            self.reply_at_receive[sender] = False

    def clear_history(self, recipient: Any = None, nr_messages_to_preserve: int | None = None) -> None:
        """Forget the history with ``recipient``, or with everyone keeping the last N messages
        per peer (one more when the first kept message is a tool result, so a result never
        loses its call)."""
        if recipient is not None:
            if nr_messages_to_preserve:
                logger.warning("nr_messages_to_preserve is ignored when a recipient is given")
            self._oai_messages[recipient].clear()
            return
        if not nr_messages_to_preserve:
            self._oai_messages.clear()
            return
        for peer, history in self._oai_messages.items():
            keep = nr_messages_to_preserve
            if len(history) > keep and history[-keep].get("tool_responses"):
                keep += 1
            self._oai_messages[peer] = history[-keep:]

    def reset(self) -> None:
        """Forget all histories, counters, usage and the state of reply-function configs."""
        self.clear_history()
        self.reset_consecutive_auto_reply_counter()
        self.stop_reply_at_receive()
        self._human_input.clear()
        if self.client is not None:
            self.client.reset_usage()
        for entry in self._reply_func_list:
            if entry["reset_config"] is not None:
                entry["reset_config"](entry["config"])
            else:
                entry["config"] = copy.copy(entry["init_config"])

    @property
    def usage(self) -> UsageTotals:
        return self.client.usage if self.client is not None else UsageTotals()

    def get_total_usage(self) -> dict[str, Any] | None:
        """Tokens and cost per model since creation or reset(), cached answers included (None without a model)."""
        return usage_summary([self.usage])["usage_including_cached_inference"] if self.client is not None else None

    def get_actual_usage(self) -> dict[str, Any] | None:
        """Like get_total_usage, without answers served from a cache."""
        return usage_summary([self.usage])["usage_excluding_cached_inference"] if self.client is not None else None

    def print_usage_summary(self) -> None:
        if self.client is None:
            print(f"{self.name} has no model.", flush=True)
            return
        print(f"Model usage of {self.name}: {json.dumps(self.get_total_usage())}", flush=True)

    # ------------------------------------------------------------------ registration

    def register_reply(
        self,
        trigger: Any,
        reply_func: ReplyFunc,
        position: int = 0,
        config: Any = None,
        reset_config: Callable[[Any], None] | None = None,
        *,
        ignore_async_in_sync_chat: bool = False,
        remove_other_reply_funcs: bool = False,
    ) -> None:
        """Add ``reply_func(recipient, messages, sender, config) -> (final, reply)`` for senders
        matching ``trigger`` (a class, an agent, a name, a callable, None for "no sender", or
        a list of these). Position 0 runs first. Sync and async functions run in sync and
        async chats alike (``ignore_async_in_sync_chat`` is accepted for compatibility)."""
        if not isinstance(trigger, type | str | list | Agent) and trigger is not None and not callable(trigger):
            raise ValueError(f"trigger must be a class, a str, an agent, a callable, None or a list; got {trigger!r}")
        if remove_other_reply_funcs:
            self._reply_func_list.clear()
        self._reply_func_list.insert(
            position,
            {
                "trigger": trigger,
                "reply_func": reply_func,
                "config": copy.copy(config),
                "init_config": config,
                "reset_config": reset_config,
            },
        )

    def replace_reply_func(self, old_reply_func: ReplyFunc, new_reply_func: ReplyFunc) -> None:
        for entry in self._reply_func_list:
            if entry["reply_func"] is old_reply_func:
                entry["reply_func"] = new_reply_func

    def register_hook(self, hookable_method: str, hook: Callable[..., Any]) -> None:
        if hookable_method not in self.hook_lists:
            raise ValueError(f"{hookable_method!r} is not hookable; the hookable methods are {list(self.hook_lists)}")
        if hook in self.hook_lists[hookable_method]:
            raise ValueError(f"{hook!r} is already registered as a {hookable_method} hook")
        self.hook_lists[hookable_method].append(hook)

    def register_function(self, function_map: Mapping[str, Callable[..., Any] | None]) -> None:
        """Add (or, with None, remove) functions this agent executes when asked by name."""
        for name, function in function_map.items():
            if not _FUNCTION_NAME.match(name):
                raise ValueError(f"Invalid function name {name!r}: only letters, digits, '_' and '-' (at most 64)")
            if function is None:
                self._function_map.pop(name, None)
                continue
            if name in self._function_map:
                warnings.warn(f"Function {name!r} is being overridden", UserWarning, stacklevel=2)
            self._function_map[name] = function

    def can_execute_function(self, name: str | list[str]) -> bool:
        names = name if isinstance(name, list) else [name]
        return all(n in self._function_map for n in names)

    def update_tool_signature(self, tool_sig: dict[str, Any] | str, is_remove: bool) -> None:
        """Add a v0.2 tool schema (``{"type": "function", "function": {...}}``) or remove one by name."""
        if self.llm_config is False:
            raise AssertionError("To update a tool signature, the agent needs an llm_config")
        name = tool_sig if isinstance(tool_sig, str) else tool_sig["function"]["name"]
        self._tools = [tool for tool in self._tools if tool["name"] != name]
        if isinstance(self.llm_config, dict):
            kept = [tool for tool in self.llm_config.get("tools", []) if tool["function"]["name"] != name]
            if kept:
                self.llm_config["tools"] = kept
            else:
                self.llm_config.pop("tools", None)
        if is_remove:
            return
        assert isinstance(tool_sig, dict)
        self._tools.append(tool_schema_from_v02(tool_sig))
        if isinstance(self.llm_config, dict):
            self.llm_config.setdefault("tools", []).append(tool_sig)

    def register_for_llm(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        api_style: Literal["function", "tool"] = "tool",
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: offer the function to this agent's model as a tool (schema from type hints)."""

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            tool_name = name or getattr(func, "_tool_name", None) or func.__name__
            tool_description = description or getattr(func, "_tool_description", None)
            if not tool_description:
                raise ValueError(f"Function {tool_name!r} needs a description to be offered to a model")
            if self.llm_config is False:
                raise RuntimeError(f"{self.name} has no llm_config: it cannot offer tools to a model")
            schema = FunctionTool(func, description=tool_description, name=tool_name).schema
            if any(tool["name"] == tool_name for tool in self._tools):
                warnings.warn(f"Tool {tool_name!r} is being overridden", UserWarning, stacklevel=2)
            self.update_tool_signature({"type": "function", "function": dict(schema)}, is_remove=False)
            func._tool_name = tool_name  # type: ignore[attr-defined]
            func._tool_description = tool_description  # type: ignore[attr-defined]
            return func

        return decorator

    def register_for_execution(self, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: let this agent execute the function when a tool call names it. Arguments
        are validated against its type hints (pydantic models are built from JSON objects);
        the result becomes text (str as is, pydantic models and other values as JSON)."""

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            tool_name = name or getattr(func, "_tool_name", None) or func.__name__
            tool = FunctionTool(func, description=getattr(func, "_tool_description", None) or "", name=tool_name)

            async def execute(**arguments: Any) -> str:
                return dumps(await tool.run_json(arguments, CancellationToken()))

            execute.__name__ = tool_name
            self.register_function({tool_name: execute})
            func._tool_name = tool_name  # type: ignore[attr-defined]
            return func

        return decorator

    def register_nested_chats(
        self,
        chat_queue: list[dict[str, Any]],
        trigger: Any,
        reply_func_from_nested_chats: str | Callable[..., Any] = "summary_from_nested_chats",
        position: int = 1,
        use_async: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """When a sender matching ``trigger`` speaks, run ``chat_queue`` (sequential chats, the
        first one's message defaulting to what that sender said) and reply with the last summary.

        The default position 1 is right after the termination and human-input check."""
        if reply_func_from_nested_chats == "summary_from_nested_chats":
            reply_func: ReplyFunc = summary_from_nested_chats
        elif callable(reply_func_from_nested_chats):
            reply_func = reply_func_from_nested_chats
        else:
            raise ValueError(f"Unknown reply_func_from_nested_chats {reply_func_from_nested_chats!r}")
        queue = [dict(entry) for entry in chat_queue]

        async def nested(
            recipient: ConversableAgent, messages: Any = None, sender: Any = None, config: Any = None
        ) -> Any:
            return await call_user(reply_func, queue, recipient, messages, sender, config)

        self.register_reply(
            trigger,
            nested,
            position=position,
            config=kwargs.get("config"),
            reset_config=kwargs.get("reset_config"),
        )

    # ------------------------------------------------------------------ human input

    def get_human_input(self, prompt: str) -> str:
        """Ask the human at this agent; override (or override ``a_get_human_input``) to answer
        from a UI, a service or a test. Default: read a line from stdin."""
        return input(prompt)

    async def a_get_human_input(self, prompt: str) -> str:
        result = await call_user(self.get_human_input, prompt)
        return str(result)

    async def _ask_human(self, prompt: str) -> str:
        reply = await self.a_get_human_input(prompt)
        self._human_input.append(reply)
        return reply

    # ------------------------------------------------------------------ the reply pipeline

    def _match_trigger(self, trigger: Any, sender: Any) -> bool:
        if trigger is None:
            return sender is None
        if isinstance(trigger, str):
            return sender is not None and getattr(sender, "name", None) == trigger
        if isinstance(trigger, type):
            return sender is not None and isinstance(sender, trigger)
        if isinstance(trigger, list):
            return any(self._match_trigger(item, sender) for item in trigger)
        if isinstance(trigger, Agent):
            return trigger is sender
        if callable(trigger):
            return bool(trigger(sender))
        raise ValueError(f"Unsupported trigger {trigger!r}")

    async def _process_messages_before_reply(self, messages: list[Message]) -> list[Message]:
        messages = list(messages)
        last_hooks = self.hook_lists["process_last_received_message"]
        if last_hooks and messages:
            last = messages[-1]
            content = last.get("content")
            if (
                "function_call" not in last
                and "context" not in last
                and isinstance(content, str | list)
                and content != "exit"
            ):
                new_content = content
                for hook in last_hooks:
                    new_content = await call_user(hook, new_content)
                if new_content != content:
                    messages[-1] = {**last, "content": new_content}
        for hook in self.hook_lists["process_all_messages_before_reply"]:
            messages = list(await call_user(hook, messages))
        return messages

    async def a_generate_reply(
        self,
        messages: list[Message] | None = None,
        sender: Any = None,
        **kwargs: Any,
    ) -> str | Message | None:
        """Run the reply functions in order until one is final; None means "no reply"."""
        if messages is None and sender is None:
            raise ValueError("generate_reply needs messages or a sender")
        if messages is None:
            messages = self._oai_messages[sender]
        messages = await self._process_messages_before_reply(messages)
        exclude = kwargs.get("exclude", ())
        self._decline_reasons.pop(sender, None)
        for entry in list(self._reply_func_list):
            reply_func = entry["reply_func"]
            if reply_func in exclude or not self._match_trigger(entry["trigger"], sender):
                continue
            final, reply = await call_user(reply_func, self, messages=messages, sender=sender, config=entry["config"])
            if final:
                if reply is None:
                    self._decline_reasons.setdefault(sender, f"{self.name} chose not to reply")
                return reply  # type: ignore[no-any-return]
        return self._default_auto_reply

    def generate_reply(
        self,
        messages: list[Message] | None = None,
        sender: Any = None,
        **kwargs: Any,
    ) -> str | Message | None:
        return run_sync(lambda: self.a_generate_reply(messages, sender, **kwargs), self._runtime)

    async def a_check_termination_and_human_reply(
        self, messages: list[Message] | None = None, sender: Any = None, config: Any = None
    ) -> tuple[bool, str | Message | None]:
        """The human_input_mode table: ask the human (or not), end the chat on "exit", a
        termination message or the auto-reply limit, or count one more auto reply."""
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        message = messages[-1] if messages else {}
        sender_name = "the sender" if sender is None else sender.name
        terminating = bool(messages) and self._is_termination_msg(message)
        limit = self._max_consecutive_auto_reply_dict[sender]
        reply: str | None = None
        reason = ""
        if self.human_input_mode == "ALWAYS":
            reply = await self._ask_human(
                f"Reply to {sender_name} as {self.name}; press enter to let the agent answer, "
                "or type 'exit' to end the conversation: "
            )
            if not reply and terminating:
                reply, reason = "exit", f"{self.name} received a termination message"
        elif self._consecutive_auto_reply_counter[sender] >= limit:
            if self.human_input_mode == "NEVER":
                reply, reason = "exit", f"{self.name} reached max_consecutive_auto_reply ({limit})"
            else:
                reply = await self._ask_human(
                    f"{self.name} reached its limit of {limit} automatic replies. Reply to {sender_name}, "
                    "press enter to "
                    + ("end the conversation" if terminating else "let the agent answer anyway")
                    + ", or type 'exit': "
                )
                if not reply and terminating:
                    reply, reason = "exit", f"{self.name} received a termination message"
        elif terminating:
            if self.human_input_mode == "NEVER":
                reply, reason = "exit", f"{self.name} received a termination message"
            else:
                reply = await self._ask_human(
                    f"{sender_name} wants to end the conversation. Reply as {self.name}, or press enter "
                    "(or type 'exit') to end it: "
                )
                if not reply:
                    reply, reason = "exit", f"{self.name} received a termination message"

        if reply == "exit":
            self._consecutive_auto_reply_counter[sender] = 0
            self._decline_reasons[sender] = reason or f"the human at {self.name} ended the chat"
            return True, None
        if reply or limit == 0:
            self._consecutive_auto_reply_counter[sender] = 0
            answer: Message = {"role": "user", "content": reply or ""}
            pending = message.get("tool_calls") or []
            if pending:
                answer["tool_responses"] = [
                    {"tool_call_id": call.get("id"), "role": "tool", "content": "USER INTERRUPTED"} for call in pending
                ]
            return True, answer
        self._consecutive_auto_reply_counter[sender] += 1
        return False, None

    async def a_execute_function(
        self, func_call: dict[str, Any], call_id: str | None = None, verbose: bool = False
    ) -> tuple[bool, Message]:
        """Run the function a call names; failures become content that starts with "Error"."""
        name = str(func_call.get("name", ""))
        function = self._function_map.get(name)
        success = False
        if function is None:
            content = f"Error: Function {name} not found."
        else:
            raw = func_call.get("arguments") or "{}"
            try:
                arguments = json.loads(raw) if isinstance(raw, str) else dict(raw)
                if not isinstance(arguments, dict):
                    raise ValueError("not a JSON object")
            except ValueError as error:
                arguments = None
                content = f"Error: the arguments of {name} must be a JSON object ({error}): {raw!r}"
            if arguments is not None:
                try:
                    content = dumps(await call_user(function, **arguments))
                    success = True
                except Exception as error:
                    content = f"Error: {error}"
        if verbose:
            print(f"{self.name} ran {name}: {content}", flush=True)
        result: Message = {"name": name, "role": "function", "content": content}
        if call_id is not None:
            result["tool_call_id"] = call_id
        return success, result

    def execute_function(
        self, func_call: dict[str, Any], call_id: str | None = None, verbose: bool = False
    ) -> tuple[bool, Message]:
        return run_sync(lambda: self.a_execute_function(func_call, call_id, verbose), self._runtime)

    async def a_generate_tool_calls_reply(
        self, messages: list[Message] | None = None, sender: Any = None, config: Any = None
    ) -> tuple[bool, Message | None]:
        """Execute the tool calls of the last message (concurrently; results in call order)."""
        if messages is None:
            messages = self._oai_messages[sender]
        if not messages:
            return False, None
        message = messages[-1]
        calls = message.get("tool_calls")
        if calls:
            results = await asyncio.gather(
                *(self.a_execute_function(call.get("function", {}), call_id=call.get("id")) for call in calls)
            )
            responses = []
            for call, (_, result) in zip(calls, results, strict=True):
                response = {"tool_call_id": call.get("id"), "role": "tool", "content": result["content"]}
                if response["tool_call_id"] is None:
                    del response["tool_call_id"]
                responses.append(response)
            return True, {
                "role": "tool",
                "tool_responses": responses,
                "content": "\n\n".join(str(r["content"]) for r in responses),
            }
        legacy = message.get("function_call")
        if legacy:
            _, result = await self.a_execute_function(legacy)
            return True, result
        return False, None

    async def a_generate_code_execution_reply(
        self, messages: list[Message] | None = None, sender: Any = None, config: Any = None
    ) -> tuple[bool, str | None]:
        """Run the code blocks of the newest message (in the scan window) that has any."""
        if self._code_executor is None or self._code_execution_config is False:
            return False, None
        if messages is None:
            messages = self._oai_messages[sender]
        last_n = self._code_execution_config.get("last_n_messages", "auto")
        if last_n == "auto":
            window = 0
            for message in reversed(messages):
                if message.get("role") != "user":
                    break
                window += 1
        else:
            window = int(last_n)
        for message in reversed(messages[-window:] if window else []):
            blocks = extract_code_blocks(content_str(message.get("content")))
            if not blocks:
                continue
            result = await self._code_executor.execute_code_blocks(blocks, CancellationToken())
            return True, execution_reply(result.exit_code, result.output)
        return False, None

    async def a_generate_oai_reply(
        self, messages: list[Message] | None = None, sender: Any = None, config: Any = None
    ) -> tuple[bool, str | Message | None]:
        """Ask the model: the system message, then the history from this agent's point of view."""
        caller = config if isinstance(config, ModelCaller) else self.client
        if caller is None:
            return False, None
        if messages is None:
            messages = self._oai_messages[sender]
        request = to_llm_messages(self.system_message, messages, self.name)
        result = await caller.create(request, tools=self._tools)
        return True, reply_from_result(result)

    # ------------------------------------------------------------------ actors

    async def _actor_on(self, runtime: AgentRuntime) -> AgentId:
        task = self._actor_ids.get(runtime)
        if task is None:
            task = asyncio.ensure_future(self._register(runtime))
            self._actor_ids[runtime] = task
        try:
            return await asyncio.shield(task)
        except BaseException:
            if task.done() and (task.cancelled() or task.exception() is not None):
                self._actor_ids.pop(runtime, None)
            raise

    async def _register(self, runtime: AgentRuntime) -> AgentId:
        uid = self._uid
        agent_type = await ChatActor.register(runtime, actor_type(uid), lambda: ChatActor(uid))
        return AgentId(agent_type.type, "default")

    async def a_register_actor(self, runtime: AgentRuntime | None = None) -> AgentId:
        """Register this agent's actor on ``runtime`` (default: the agent's) now instead of at
        its first chat, so that agents in other processes can reach it (as ``RemoteAgent(name)``)."""
        return await self._actor_on(await runtime_for(runtime or self._runtime))

    async def _subscribe(self, runtime: AgentRuntime, topic_type: str) -> None:
        topics = self._subscribed.setdefault(runtime, set())
        if topic_type in topics:
            return
        topics.add(topic_type)
        actor = await self._actor_on(runtime)
        await runtime.add_subscription(TypeSubscription(topic_type, actor.type))

    def _is_silent(self, silent: bool) -> bool:
        return self._silent if self._silent is not None else silent

    async def _record_send(self, message: str | Message, recipient: Any, silent: bool) -> Message:
        """What ``send`` does on the sender's side: hooks, then the own history (as "assistant")."""
        for hook in self.hook_lists["process_message_before_send"]:
            message = await call_user(hook, sender=self, message=message, recipient=recipient, silent=silent)
        stored = normalize(message, role="assistant", author=self.name)
        self._oai_messages[recipient].append(stored)
        return stored

    def _record_receive(self, message: Message, sender: Any, silent: bool) -> Message:
        stored = normalize(message, role="user", author=sender.name)
        self._oai_messages[sender].append(stored)
        if not self._is_silent(silent):
            print(render(stored, sender.name, self.name), flush=True)
        return stored

    async def _reply_to(self, sender: Any, silent: bool) -> Outcome:
        reply = await self.a_generate_reply(messages=self._oai_messages[sender], sender=sender)
        if reply is None:
            return Outcome(None, self._decline_reasons.get(sender, f"{self.name} did not reply"))
        stored = await self._record_send(reply, sender, silent)
        return Outcome(dict(stored))

    async def _handle_delivery(self, delivery: Delivery) -> Outcome:
        sender = agent_by_uid(delivery.sender)
        self._record_receive(delivery.message, sender, delivery.silent)
        wanted = delivery.request_reply
        if wanted is False or (wanted is None and not self.reply_at_receive[sender]):
            return Outcome(None)
        return await self._reply_to(sender, delivery.silent)

    async def _handle_take_turn(self, turn: TakeTurn) -> Outcome:
        return await self._reply_to(agent_by_uid(turn.manager), silent=True)

    def _handle_broadcast(self, broadcast: GroupBroadcast) -> None:
        if broadcast.speaker == self._uid:
            return
        manager = agent_by_uid(broadcast.manager)
        stored = normalize(broadcast.message, role="user", author=agent_by_uid(broadcast.speaker).name)
        self._oai_messages[manager].append(stored)

    # ------------------------------------------------------------------ conversations

    async def _chat_runtime(self, *others: Any) -> AgentRuntime:
        current = CURRENT_RUNTIME.get()
        explicit = self._runtime
        for other in others:
            theirs = getattr(other, "_runtime", None)
            if theirs is not None and explicit is not None and theirs is not explicit:
                raise ValueError(f"{self.name} and {other.name} run on different runtimes: they cannot converse")
            explicit = explicit or theirs
        if explicit is None and current is not None:
            return current
        return await runtime_for(explicit)

    async def _converse(
        self,
        recipient: ConversableAgent,
        message: Message,
        *,
        request_reply: bool | None,
        silent: bool,
        max_turns: int | None = None,
        deadline: float | None = None,
        time_limit: float | None = None,
    ) -> str | None:
        """Hand messages back and forth until one side stays silent; return why the chat ended."""
        runtime = await self._chat_runtime(recipient)
        ids = {self: await self._actor_on(runtime), recipient: await recipient._actor_on(runtime)}
        loop = asyncio.get_running_loop()
        speaker: ConversableAgent = self
        listener: ConversableAgent = recipient
        wanted = request_reply
        turns = 0
        while True:
            timeout = math.inf
            if deadline is not None:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    return f"time limit of {time_limit}s reached"
            try:
                outcome = await request(
                    runtime,
                    Delivery(message, speaker._uid, wanted, silent),
                    ids[listener],
                    sender=ids[speaker],
                    timeout=timeout,
                )
            except TimeoutError:
                if deadline is not None and loop.time() >= deadline:
                    return f"time limit of {time_limit}s reached"
                raise
            if outcome.reply is None:
                if wanted is False and max_turns is not None:
                    return f"max_turns reached ({max_turns})"
                return outcome.stop_reason
            if listener is recipient:
                turns += 1
            message = outcome.reply
            speaker, listener = listener, speaker
            if max_turns is None:
                wanted = None
            else:
                wanted = True if listener is recipient else turns < max_turns

    async def a_send(
        self,
        message: str | Message,
        recipient: Any,
        request_reply: bool | None = None,
        silent: bool = False,
    ) -> None:
        """Send ``message`` to ``recipient``; the conversation goes on while the side that
        receives a message replies (per ``request_reply`` and ``reply_at_receive``)."""

        async def send() -> None:
            stored = await self._record_send(message, recipient, silent)
            await self._converse(recipient, stored, request_reply=request_reply, silent=silent)

        await on_loop_of(self._runtime, send)

    def send(
        self,
        message: str | Message,
        recipient: Any,
        request_reply: bool | None = None,
        silent: bool = False,
    ) -> None:
        run_sync(lambda: self.a_send(message, recipient, request_reply, silent), self._runtime)

    async def a_receive(
        self, message: str | Message, sender: Any, request_reply: bool | None = None, silent: bool = False
    ) -> None:
        """Record ``message`` from ``sender`` and, if a reply is wanted, answer it (and so on)."""
        stored = normalize(message, role="assistant", author=sender.name)
        await on_loop_of(
            self._runtime, lambda: sender._converse(self, stored, request_reply=request_reply, silent=silent)
        )

    def receive(
        self, message: str | Message, sender: Any, request_reply: bool | None = None, silent: bool = False
    ) -> None:
        run_sync(lambda: self.a_receive(message, sender, request_reply, silent), self._runtime)

    async def _a_prepare_chat(self, peer: Any, clear_history: bool, reply_at_receive: bool) -> None:
        """A chat with ``peer`` starts (run by this agent's actor, or by the initiator itself)."""
        self.reset_consecutive_auto_reply_counter(peer)
        self.reply_at_receive[peer] = reply_at_receive
        if clear_history:
            self.clear_history(peer)
            self._human_input = []

    async def _a_prepare_peer(
        self, runtime: AgentRuntime, peer: Any, clear_history: bool, reply_at_receive: bool
    ) -> None:
        """Tell ``peer``'s actor that a chat with this agent starts."""
        await request(
            runtime,
            PrepareChat(self._uid, clear_history, reply_at_receive),
            await peer._actor_on(runtime),
            sender=await self._actor_on(runtime),
        )

    async def a_generate_init_message(self, message: str | Message | None, **kwargs: Any) -> str | Message:
        if message is None:
            message = await self._ask_human(">")
        return with_carryover(message, kwargs.get("carryover"))

    def generate_init_message(self, message: str | Message | None, **kwargs: Any) -> str | Message:
        return run_sync(lambda: self.a_generate_init_message(message, **kwargs), self._runtime)

    async def a_initiate_chat(
        self,
        recipient: ConversableAgent,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: Any = None,
        max_turns: int | None = None,
        summary_method: str | Callable[..., Any] | None = DEFAULT_SUMMARY_METHOD,
        summary_args: dict[str, Any] | None = None,
        message: str | Message | Callable[..., Any] | None = None,
        *,
        time_limit: float | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Start a conversation with ``recipient`` and return its ChatResult.

        ``max_turns=N`` allows N round trips; ``time_limit`` (seconds) bounds the whole chat.
        Without them, the chat goes on until a side stays silent (termination message, human
        exit, max_consecutive_auto_reply).
        """
        if summary_method not in (None, "last_msg", "reflection_with_llm") and not callable(summary_method):
            raise ValueError("summary_method must be 'last_msg', 'reflection_with_llm', a callable or None")
        if summary_method == "reflection_with_llm" and self.client is None and recipient.client is None:
            raise ValueError("summary_method='reflection_with_llm' needs a model on the sender or the recipient")
        if max_turns is not None and max_turns < 1:
            raise ValueError(f"max_turns must be at least 1, got {max_turns}")
        quiet = bool(silent)

        async def chat() -> ChatResult:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + time_limit if time_limit is not None else None
            runtime = await self._chat_runtime(recipient)
            await self._a_prepare_chat(recipient, clear_history, max_turns is None)
            await self._a_prepare_peer(runtime, recipient, clear_history, max_turns is None)
            before = [self.usage.snapshot(), recipient.usage.snapshot()]
            if callable(message):
                first = await call_user(message, self, recipient, kwargs)
            else:
                first = await self.a_generate_init_message(message, **kwargs)
            stored = await self._record_send(first, recipient, quiet)
            reason = await self._converse(
                recipient,
                stored,
                request_reply=True if max_turns is not None else None,
                silent=quiet,
                max_turns=max_turns,
                deadline=deadline,
                time_limit=time_limit,
            )
            summary = await self._summarize(recipient, summary_method, dict(summary_args or {}))
            result = ChatResult(
                chat_id=kwargs.get("chat_id"),
                chat_history=self._oai_messages[recipient],
                summary=summary,
                cost=usage_summary([self.usage, recipient.usage], before),
                human_input=list(self._human_input),
                stop_reason=reason,
            )
            self._finished_chats.append(result)
            return result

        return await on_loop_of(self._runtime, chat)

    def initiate_chat(
        self,
        recipient: ConversableAgent,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: Any = None,
        max_turns: int | None = None,
        summary_method: str | Callable[..., Any] | None = DEFAULT_SUMMARY_METHOD,
        summary_args: dict[str, Any] | None = None,
        message: str | Message | Callable[..., Any] | None = None,
        *,
        time_limit: float | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """The synchronous form of :meth:`a_initiate_chat`; works inside a running event loop too."""
        return run_sync(
            lambda: self.a_initiate_chat(
                recipient,
                clear_history,
                silent,
                cache,
                max_turns,
                summary_method,
                summary_args,
                message,
                time_limit=time_limit,
                **kwargs,
            ),
            self._runtime,
        )

    async def a_initiate_chats(self, chat_queue: list[dict[str, Any]]) -> dict[int, ChatResult]:
        """:func:`actorgen_agentchat.a_initiate_chats` with this agent as the default sender."""
        return await a_initiate_chats([{"sender": self, **entry} for entry in chat_queue])

    def initiate_chats(self, chat_queue: list[dict[str, Any]]) -> list[ChatResult]:
        """:func:`actorgen_agentchat.initiate_chats` with this agent as the default sender."""
        queue = [{"sender": self, **entry} for entry in chat_queue]
        return run_sync(lambda: run_chat_queue(queue), self._runtime)

    async def _summarize(
        self, recipient: ConversableAgent, method: str | Callable[..., Any] | None, summary_args: dict[str, Any]
    ) -> str:
        if method is None:
            return ""
        if callable(method):
            return str(await call_user(method, self, recipient, summary_args))
        if method == "last_msg":
            try:
                # A remote recipient's last message with us is our own last message with it.
                last = self.last_message(recipient) if recipient._is_remote else recipient.last_message(self)
            except (KeyError, ValueError):
                last = None
            if last is None:
                return ""
            return re.sub(r"\s*\bTERMINATE\b\s*", " ", content_str(last.get("content"))).strip()
        summarizer = recipient if recipient.client is not None else self
        prompt = summary_args.get("summary_prompt") or self.DEFAULT_SUMMARY_PROMPT
        role = summary_args.get("summary_role", "system")
        transcript = (
            self._oai_messages[recipient] if recipient._is_remote else recipient.chat_messages_for_summary(self)
        )
        history = [*transcript, {"role": role, "content": prompt, "name": self.name}]
        assert summarizer.client is not None
        try:
            result = await summarizer.client.create(
                to_llm_messages(summarizer.system_message, history, summarizer.name)
            )
        except Exception as error:
            logger.warning("reflection_with_llm could not summarize the chat, the summary is empty: %s", error)
            return ""
        return content_str(result.content) if isinstance(result.content, str) else ""
