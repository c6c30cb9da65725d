"""GroupChat and GroupChatManager: a manager actor that picks speakers and broadcasts on the group's topic."""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from actorgen_core import AgentRuntime, TopicId
from actorgen_core.models import AssistantMessage, LLMMessage, SystemMessage, UserMessage

from ._actor import CURRENT_RUNTIME, Delivery, Flush, GroupBroadcast, Outcome, TakeTurn, request
from ._agent import Agent
from ._conversable_agent import ConversableAgent
from ._llm import ModelCaller
from ._loop import call_user, runtime_for
from ._messages import Message, content_str, normalize, render

logger = logging.getLogger("actorgen_agentchat")

SELECTION_METHODS = ("auto", "manual", "random", "round_robin")


class NoEligibleSpeaker(Exception):
    """No participant may speak next: the group chat ends."""


@dataclass
class GroupChat:
    """The participants, the transcript and the rules for who speaks next.

    ``max_round`` counts messages, the opening one included.
    """

    agents: list[ConversableAgent]
    messages: list[Message] = field(default_factory=list)
    max_round: int = 10
    admin_name: str = "Admin"
    func_call_filter: bool = True
    speaker_selection_method: str | Callable[..., Any] = "auto"
    max_retries_for_selecting_speaker: int = 2
    allow_repeat_speaker: bool | list[ConversableAgent] | None = None
    allowed_or_disallowed_speaker_transitions: dict[ConversableAgent, list[ConversableAgent]] | None = None
    speaker_transitions_type: Literal["allowed", "disallowed"] | None = None
    enable_clear_history: bool = False
    send_introductions: bool = False
    select_speaker_message_template: str = (
        "You coordinate a conversation between these participants:\n{roles}\n\n"
        "Read the conversation and decide who should speak next. Choose one of {agentlist}; "
        "answer with the name only."
    )
    select_speaker_prompt_template: str | None = (
        "Given the conversation above, who speaks next? Answer with exactly one name from {agentlist} and nothing else."
    )
    select_speaker_auto_multiple_template: str = (
        "Your answer named more than one participant. Name exactly one of {agentlist}: the one whose turn it "
        "is after the last message (if unsure, the one the last speaker addressed). Answer with that name alone."
    )
    select_speaker_auto_none_template: str = (
        "Your answer named no participant. Answer with exactly one of these names and nothing else: {agentlist}"
    )
    select_speaker_auto_verbose: bool = False
    select_speaker_auto_llm_config: dict[str, Any] | Any = None
    role_for_select_speaker_messages: str = "system"

    def __post_init__(self) -> None:
        if len(self.agents) < 1:
            raise ValueError("A group chat needs at least one agent")
        if self.max_round < 1:
            raise ValueError(f"max_round must be at least 1, got {self.max_round}")
        if not isinstance(self.max_retries_for_selecting_speaker, int) or self.max_retries_for_selecting_speaker < 0:
            raise ValueError("max_retries_for_selecting_speaker must be an int >= 0")
        method = self.speaker_selection_method
        if isinstance(method, str) and method.lower() not in SELECTION_METHODS:
            raise ValueError(
                f"speaker_selection_method must be one of {SELECTION_METHODS} or a callable, got {method!r}"
            )
        if self.enable_clear_history:
            warnings.warn("enable_clear_history is not supported by actorgen_agentchat and is ignored", stacklevel=3)
        if not self.select_speaker_message_template:
            raise ValueError("select_speaker_message_template must not be empty")
        graph = self.allowed_or_disallowed_speaker_transitions
        if graph is not None:
            if self.allow_repeat_speaker is not None:
                raise ValueError(
                    "allow_repeat_speaker and allowed_or_disallowed_speaker_transitions cannot both be given: "
                    "say repeats with self-loops in the graph"
                )
            if self.speaker_transitions_type not in ("allowed", "disallowed"):
                raise ValueError("speaker_transitions_type must be 'allowed' or 'disallowed' when a graph is given")
            for source, targets in graph.items():
                if source not in self.agents:
                    raise ValueError(f"The transition graph names {source.name}, who is not in the group")
                for target in targets:
                    if target not in self.agents:
                        raise ValueError(f"The transition graph names {target.name}, who is not in the group")
            if self.speaker_transitions_type == "allowed":
                self.allowed_speaker_transitions_dict = {source: list(targets) for source, targets in graph.items()}
            else:
                self.allowed_speaker_transitions_dict = {
                    source: [a for a in self.agents if a not in graph.get(source, [])] for source in self.agents
                }
        else:
            repeat = True if self.allow_repeat_speaker is None else self.allow_repeat_speaker
            self.allowed_speaker_transitions_dict = {
                source: [
                    a
                    for a in self.agents
                    if a is not source or repeat is True or (isinstance(repeat, list) and source in repeat)
                ]
                for source in self.agents
            }

    # ------------------------------------------------------------------ helpers

    @property
    def agent_names(self) -> list[str]:
        return [agent.name for agent in self.agents]

    def reset(self) -> None:
        self.messages.clear()

    def append(self, message: Message, speaker: ConversableAgent) -> None:
        entry = dict(message)
        if entry.get("role") != "function":
            entry["name"] = speaker.name
        entry.setdefault("content", None)
        self.messages.append(entry)

    def agent_by_name(self, name: str) -> ConversableAgent | None:
        return next((agent for agent in self.agents if agent.name == name), None)

    def next_agent(self, agent: ConversableAgent, agents: Sequence[ConversableAgent] | None = None) -> ConversableAgent:
        """The first of ``agents`` after ``agent`` in the group's order (wrapping around)."""
        pool = list(agents) if agents is not None else self.agents
        start = self.agents.index(agent) + 1 if agent in self.agents else 0
        for offset in range(len(self.agents)):
            candidate = self.agents[(start + offset) % len(self.agents)]
            if candidate in pool:
                return candidate
        return pool[0]

    def _roles(self, agents: Sequence[ConversableAgent]) -> str:
        return "\n".join(f"{agent.name}: {agent.description}".strip() for agent in agents)

    def select_speaker_msg(self, agents: Sequence[ConversableAgent] | None = None) -> str:
        agents = list(agents if agents is not None else self.agents)
        return self.select_speaker_message_template.format(
            roles=self._roles(agents), agentlist=[agent.name for agent in agents]
        )

    def select_speaker_prompt(self, agents: Sequence[ConversableAgent] | None = None) -> str | None:
        if not self.select_speaker_prompt_template:
            return None
        agents = list(agents if agents is not None else self.agents)
        return self.select_speaker_prompt_template.format(agentlist=[agent.name for agent in agents])

    def introductions_msg(self, agents: Sequence[ConversableAgent] | None = None) -> str:
        agents = list(agents if agents is not None else self.agents)
        return (
            "Welcome to this group conversation. The participants are:\n\n"
            + self._roles(agents)
            + "\n\nOne participant speaks at a time."
        )

    # ------------------------------------------------------------------ speaker selection

    async def a_select_speaker(self, last_speaker: ConversableAgent, selector: GroupChatManager) -> ConversableAgent:
        """Who speaks after ``last_speaker``; raises NoEligibleSpeaker when nobody may."""
        method = self.speaker_selection_method
        if callable(method):
            chosen = await call_user(method, last_speaker, self)
            if chosen is None:
                raise NoEligibleSpeaker("the speaker selection function returned None")
            if isinstance(chosen, Agent) and not isinstance(chosen, str):
                if chosen not in self.agents:
                    raise ValueError(f"The speaker selection function chose {chosen.name}, who is not in the group")
                return chosen
            if not isinstance(chosen, str) or chosen.lower() not in SELECTION_METHODS:
                raise ValueError(
                    f"The speaker selection function must return an agent, one of {SELECTION_METHODS} or None; "
                    f"got {chosen!r}"
                )
            method = chosen
        method = str(method).lower()
        candidates = list(self.agents)
        last = self.messages[-1] if self.messages else {}
        if self.func_call_filter and (last.get("tool_calls") or last.get("function_call")):
            names = [call.get("function", {}).get("name", "") for call in last.get("tool_calls") or []]
            if last.get("function_call"):
                names.append(last["function_call"].get("name", ""))
            able = [agent for agent in self.agents if agent.can_execute_function(names)]
            if len(able) == 1:
                return able[0]
            if not able:
                able = [agent for agent in self.agents if agent.function_map]
                if len(able) == 1:
                    return able[0]
                if not able:
                    raise ValueError(f"No agent in the group can execute {names}")
            candidates = able
        if last_speaker in self.agents:
            allowed = self.allowed_speaker_transitions_dict.get(last_speaker)
            if allowed is None:
                raise NoEligibleSpeaker(f"the transition graph has no way out of {last_speaker.name}")
            candidates = [agent for agent in candidates if agent in allowed]
        if not candidates:
            raise NoEligibleSpeaker(f"nobody may speak after {last_speaker.name}")
        if len(candidates) == 1:
            return candidates[0]
        if method == "round_robin":
            return self.next_agent(last_speaker, candidates)
        if method == "random":
            return random.choice(candidates)
        if method == "manual":
            return await self._manual_select(last_speaker, candidates, selector)
        return await self._auto_select(last_speaker, candidates, selector)

    async def _manual_select(
        self, last_speaker: ConversableAgent, candidates: list[ConversableAgent], selector: GroupChatManager
    ) -> ConversableAgent:
        menu = "\n".join(f"{number}: {agent.name}" for number, agent in enumerate(candidates, 1))
        for _ in range(3):
            answer = (
                await selector.a_get_human_input(f"Who speaks next?\n{menu}\nNumber (enter or q to skip): ")
            ).strip()
            if answer in ("", "q"):
                break
            if answer.isdigit() and 1 <= int(answer) <= len(candidates):
                return candidates[int(answer) - 1]
        return self.next_agent(last_speaker, candidates)

    def _selection_context(self, candidates: list[ConversableAgent], selector: GroupChatManager) -> list[LLMMessage]:
        context: list[LLMMessage] = [SystemMessage(content=self.select_speaker_msg(candidates))]
        for message in self.messages:
            text = content_str(message.get("content"))
            if message.get("tool_calls"):
                called = ", ".join(call.get("function", {}).get("name", "") for call in message["tool_calls"])
                text = (text + "\n" if text else "") + f"(asks to call: {called})"
            context.append(UserMessage(content=text or "(empty)", source=str(message.get("name") or "user")))
        prompt = self.select_speaker_prompt(candidates)
        if prompt:
            context.append(self._instruction(prompt))
        return context

    def _instruction(self, text: str) -> LLMMessage:
        if self.role_for_select_speaker_messages == "system":
            return SystemMessage(content=text)
        return UserMessage(content=text, source="speaker_selection")

    async def _auto_select(
        self, last_speaker: ConversableAgent, candidates: list[ConversableAgent], selector: GroupChatManager
    ) -> ConversableAgent:
        caller = selector._selection_client(self)
        context = self._selection_context(candidates, selector)
        agentlist = [agent.name for agent in candidates]
        for attempt in range(1 + self.max_retries_for_selecting_speaker):
            result = await caller.create(context)
            answer = result.content if isinstance(result.content, str) else ""
            mentioned = mentioned_agents(answer, candidates)
            if self.select_speaker_auto_verbose:
                print(f"speaker selection attempt {attempt + 1}: {answer!r} → {sorted(mentioned)}", flush=True)
            if len(mentioned) == 1:
                return next(agent for agent in candidates if agent.name in mentioned)
            retry = self.select_speaker_auto_multiple_template if mentioned else self.select_speaker_auto_none_template
            context.append(AssistantMessage(content=answer or "(empty)", source=selector.name))
            context.append(self._instruction(retry.format(agentlist=agentlist)))
        fallback = self.next_agent(last_speaker, candidates)
        selector._selection_fallbacks += 1
        logger.warning(
            "Speaker selection: the model named no single participant in %d attempts; %s speaks (round robin)",
            1 + self.max_retries_for_selecting_speaker,
            fallback.name,
        )
        return fallback


def mentioned_agents(text: str, agents: Sequence[ConversableAgent]) -> dict[str, int]:
    """How often each agent's name appears in ``text`` as a whole word (also with spaces or
    escaped underscores for "_"); only names that appear are in the result."""
    padded = f" {text} "
    counts: dict[str, int] = {}
    for agent in agents:
        total = 0
        for spelling in {agent.name, agent.name.replace("_", " "), agent.name.replace("_", r"\_")}:
            total += len(re.findall(r"(?<=\W)" + re.escape(spelling) + r"(?=\W)", padded))
        if total:
            counts[agent.name] = total
    return counts


class GroupChatManager(ConversableAgent):
    """Runs a GroupChat: broadcasts each message on the group's topic, picks the next speaker
    and asks it for its turn, until a termination message, a silent speaker or max_round."""

    def __init__(
        self,
        groupchat: GroupChat,
        name: str = "chat_manager",
        max_consecutive_auto_reply: int | None = sys.maxsize,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "NEVER",
        system_message: str | list[str] | None = "Group chat manager.",
        silent: bool = False,
        **kwargs: Any,
    ) -> None:
        llm_config = kwargs.get("llm_config")
        if isinstance(llm_config, dict) and ("tools" in llm_config or "functions" in llm_config):
            raise ValueError("A GroupChatManager does not call tools: remove 'tools'/'functions' from its llm_config")
        super().__init__(
            name=name,
            max_consecutive_auto_reply=max_consecutive_auto_reply,
            human_input_mode=human_input_mode,
            system_message=system_message,
            **kwargs,
        )
        if (
            str(groupchat.speaker_selection_method).lower() == "auto"
            and self.client is None
            and groupchat.select_speaker_auto_llm_config is None
            and len(groupchat.agents) > 1
        ):
            raise ValueError(
                "speaker_selection_method='auto' needs a model: give the GroupChatManager an llm_config "
                "(or the GroupChat a select_speaker_auto_llm_config), or choose another selection method"
            )
        self._groupchat = groupchat
        self._group_silent = silent
        self._last_speaker: ConversableAgent | None = None
        self._selection_caller: ModelCaller | None = None
        self._selection_fallbacks = 0
        self._chat_silent = False
        # One topic per manager object: a later manager of the same name never reaches old subscribers.
        self._group_topic = f"agentchat.group.{self._uid}.{secrets.token_hex(4)}"
        self.register_reply(Agent, GroupChatManager.a_run_chat, config=groupchat, reset_config=GroupChat.reset)

    @property
    def groupchat(self) -> GroupChat:
        return self._groupchat

    @property
    def last_speaker(self) -> ConversableAgent | None:
        """Who wrote the message being broadcast (every broadcast comes from the manager)."""
        return self._last_speaker

    @property
    def selection_fallbacks(self) -> int:
        """How often "auto" selection fell back to round robin because the model named nobody usable."""
        return self._selection_fallbacks

    def chat_messages_for_summary(self, agent: Any) -> list[Message]:
        return self._groupchat.messages

    def _selection_client(self, groupchat: GroupChat) -> ModelCaller:
        if groupchat.select_speaker_auto_llm_config is not None:
            if self._selection_caller is None:
                self._selection_caller = ModelCaller(groupchat.select_speaker_auto_llm_config)
            return self._selection_caller
        if self.client is None:
            raise ValueError("speaker_selection_method='auto' needs a model on the GroupChatManager")
        return self.client

    async def _handle_delivery(self, delivery: Delivery) -> Outcome:
        self._chat_silent = delivery.silent  # initiate_chat(silent=True) also quiets the group's transcript
        return await super()._handle_delivery(delivery)

    async def _a_prepare_chat(self, peer: Any, clear_history: bool, reply_at_receive: bool) -> None:
        await super()._a_prepare_chat(peer, clear_history, reply_at_receive)
        if clear_history:
            self._groupchat.reset()
        runtime = await self._group_runtime()
        for agent in self._groupchat.agents:
            if agent is not peer:
                await self._a_prepare_peer(runtime, agent, clear_history, reply_at_receive=False)
                self.reset_consecutive_auto_reply_counter(agent)
                if clear_history:
                    self.clear_history(agent)

    async def _group_runtime(self) -> AgentRuntime:
        current = CURRENT_RUNTIME.get()
        if current is not None and self._runtime is None:
            return current
        return await runtime_for(self._runtime)

    async def a_run_chat(
        self, messages: list[Message] | None = None, sender: Any = None, config: GroupChat | None = None
    ) -> tuple[bool, None]:
        """The manager's reply function: run the group until it ends, never answering the initiator."""
        groupchat = config if config is not None else self._groupchat
        if messages is None:
            messages = self._oai_messages[sender]
        runtime = await self._group_runtime()
        topic = TopicId(self._group_topic, "default")
        me = await self._actor_on(runtime)
        actors = {}
        for agent in groupchat.agents:
            actors[agent] = await agent._actor_on(runtime)
            await agent._subscribe(runtime, topic.type)
        silent = self._is_silent(self._group_silent or self._chat_silent)

        async def broadcast(message: Message, speaker: ConversableAgent) -> None:
            for agent in groupchat.agents:
                if agent is not speaker:
                    self._oai_messages[agent].append(normalize(message, role="assistant", author=speaker.name))
            await runtime.publish_message(GroupBroadcast(self._uid, speaker._uid, dict(message)), topic, sender=me)

        if groupchat.send_introductions:
            intro = {"role": "user", "content": groupchat.introductions_msg(), "name": self.name}
            await broadcast(intro, self)

        message = messages[-1]
        speaker: ConversableAgent = sender
        reason: str | None = None
        fallbacks_before = self._selection_fallbacks
        for round_number in range(groupchat.max_round):
            self._last_speaker = speaker
            groupchat.append(message, speaker)
            await broadcast(message, speaker)
            if self._is_termination_msg(message):
                reason = f"{self.name} received a termination message from {speaker.name}"
                break
            if round_number == groupchat.max_round - 1:
                reason = f"max_round reached ({groupchat.max_round})"
                break
            try:
                speaker = await groupchat.a_select_speaker(speaker, self)
            except NoEligibleSpeaker as error:
                reason = f"no eligible speaker: {error}"
                break
            if not silent:
                print(f"\nNext speaker: {speaker.name}\n", flush=True)
            outcome = await request(runtime, TakeTurn(self._uid, silent), actors[speaker], sender=me)
            if outcome.reply is None:
                reason = f"{speaker.name} did not speak: {outcome.stop_reason}"
                break
            message = normalize(outcome.reply, role="user", author=speaker.name)
            self._oai_messages[speaker].append(message)
            if not silent:
                print(render(message, speaker.name, self.name), flush=True)
        fallbacks = self._selection_fallbacks - fallbacks_before
        if fallbacks:
            reason = (
                f"{reason}; speaker selection fell back to round robin {fallbacks} time"
                + ("s" if fallbacks > 1 else "")
                + " (the model named no single eligible participant)"
            )
        # Every participant has handled every broadcast before the chat is reported as over.
        for agent in groupchat.agents:
            await request(runtime, Flush(), actors[agent], sender=me)
        self._decline_reasons[sender] = reason or "the group chat ended"
        return True, None

    def resume(
        self,
        messages: list[Message] | str,
        remove_termination_string: str | Callable[[str], str] | None = None,
        silent: bool = False,
    ) -> tuple[ConversableAgent, Message]:
        """Load a previous transcript so the chat can go on: every message but the last is
        given to every participant; returns the last speaker and the last message, to pass to
        ``last_agent.initiate_chat(manager, message=last_message, clear_history=False)``."""
        loaded: list[Message] = json.loads(messages) if isinstance(messages, str) else [dict(m) for m in messages]
        if not loaded:
            raise ValueError("resume needs at least one message")
        groupchat = self._groupchat
        names = {agent.name: agent for agent in groupchat.agents}
        for message in loaded:
            name = message.get("name")
            if name is not None and name not in names and name not in (groupchat.admin_name, self.name):
                raise ValueError(f"Message from {name!r}, who is not in the group")
        groupchat.reset()
        self.clear_history()
        for agent in groupchat.agents:
            agent.clear_history(self)
        for message in loaded[:-1]:
            speaker = names.get(str(message.get("name")), None)
            author = speaker if speaker is not None else self
            groupchat.append(message, author)
            for agent in groupchat.agents:
                if agent is author:
                    agent._oai_messages[self].append(normalize(message, role="assistant", author=author.name))
                else:
                    agent._oai_messages[self].append(normalize(message, role="user", author=author.name))
        last = dict(loaded[-1])
        last_agent = names.get(str(last.get("name")), self)
        if remove_termination_string is not None and isinstance(last.get("content"), str):
            if callable(remove_termination_string):
                last["content"] = remove_termination_string(last["content"])
            else:
                last["content"] = last["content"].replace(remove_termination_string, "")
        if self._is_termination_msg(last):
            logger.warning("The last message of the resumed chat is a termination message: the chat will end at once")
        groupchat.send_introductions = False
        return last_agent, last
