"""AssistantAgent and UserProxyAgent: ConversableAgent with v0.2's defaults for the two classic roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from actorgen_core.models import ChatCompletionClient

from ._conversable_agent import ConversableAgent
from ._messages import Message


class AssistantAgent(ConversableAgent):
    """A model-backed agent that solves tasks, proposing code for someone else to run."""

    DEFAULT_SYSTEM_MESSAGE = (
        "You are a capable assistant who solves tasks with reasoning and code.\n"
        "When code helps, give the user a complete Python (```python) or shell (```sh) block to run; the user "
        "runs it as given and reports the output, so never leave parts for them to fill in. Put one code block "
        "in an answer. To have the code saved to a file, start the block with the line '# filename: <name>'.\n"
        "Read the results the user reports. If something failed, fix it and give the corrected code in full. "
        "If a plan does not work, rethink it.\n"
        "Check your answer before giving it, and say what evidence supports it.\n"
        "When the task is done, answer with TERMINATE."
    )
    DEFAULT_DESCRIPTION = "An assistant with language, Python and Linux shell skills; it writes code for others to run."

    def __init__(
        self,
        name: str,
        system_message: str | None = DEFAULT_SYSTEM_MESSAGE,
        llm_config: dict[str, Any] | ChatCompletionClient | Literal[False] | None = None,
        is_termination_msg: Callable[[Message], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "NEVER",
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        if description is None and system_message == self.DEFAULT_SYSTEM_MESSAGE:
            description = self.DEFAULT_DESCRIPTION
        super().__init__(
            name,
            system_message,
            is_termination_msg,
            max_consecutive_auto_reply,
            human_input_mode,
            llm_config=llm_config,
            description=description,
            **kwargs,
        )


class UserProxyAgent(ConversableAgent):
    """Stands in for a human: asks the human (per human_input_mode) and runs code and tools."""

    DEFAULT_DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "ALWAYS": "A human user who answers questions and can run the code others propose.",
        "TERMINATE": "A user who runs the code others propose and reports the result.",
        "NEVER": "A computer terminal: it runs the python and sh code blocks it is given and reports the output.",
    }

    def __init__(
        self,
        name: str,
        is_termination_msg: Callable[[Message], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "ALWAYS",
        function_map: dict[str, Callable[..., Any]] | None = None,
        code_execution_config: dict[str, Any] | Literal[False] = {},  # noqa: B006 - v0.2's default, copied
        default_auto_reply: str | Message = "",
        llm_config: dict[str, Any] | ChatCompletionClient | Literal[False] | None = False,
        system_message: str | list[str] | None = "",
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            system_message=system_message,
            is_termination_msg=is_termination_msg,
            max_consecutive_auto_reply=max_consecutive_auto_reply,
            human_input_mode=human_input_mode,
            function_map=function_map,
            code_execution_config=code_execution_config,
            llm_config=llm_config,
            default_auto_reply=default_auto_reply,
            description=description if description is not None else self.DEFAULT_DESCRIPTIONS[human_input_mode],
            **kwargs,
        )
