"""A nested chat: before answering, the writer has a critic review its draft in a chat of its own.

Run it with:  uv run python samples/agentchat/nested_chat.py
"""

from typing import Any

from sample_models import model

from actorgen_agentchat import ConversableAgent

user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
writer = ConversableAgent(
    "writer",
    system_message="You write one-line slogans.",
    llm_config=model(["Actors: message passing, not stress passing."]),
    human_input_mode="NEVER",
)
critic = ConversableAgent(
    "critic",
    system_message="Review the slogan in one sentence, then give an improved version on its own last line.",
    llm_config=model(["Good rhythm, but lead with the benefit.\nNo shared state, no shared stress: use actors."]),
    human_input_mode="NEVER",
)
reviewer_front = ConversableAgent("reviewer_front", llm_config=False, human_input_mode="NEVER")


def draft_for_review(recipient: Any, messages: Any, sender: Any, config: Any) -> str:
    draft = writer.generate_reply(messages=[{"role": "user", "content": messages[-1]["content"]}])
    return f"Please review this slogan: {draft}"


def last_line(sender: Any, recipient: Any, summary_args: Any) -> str:
    last = recipient.last_message(sender) or {}
    return str(last.get("content", "")).splitlines()[-1]


# When the user writes to reviewer_front, it runs this chat and answers with its summary.
reviewer_front.register_nested_chats(
    [{"recipient": critic, "message": draft_for_review, "max_turns": 1, "summary_method": last_line}],
    trigger=user,
)
result = user.initiate_chat(reviewer_front, message="A slogan for an actor runtime, please.", max_turns=1)
print(f"final slogan: {result.summary}")
