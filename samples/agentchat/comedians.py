"""Two comedians trade jokes for two rounds: initiate_chat with max_turns=2.

Run it with:  uv run python samples/agentchat/comedians.py
"""

from sample_models import model

from actorgen_agentchat import ConversableAgent

cathy = ConversableAgent(
    "cathy",
    system_message="Your name is Cathy and you are part of a comedy duo. Keep it to one line.",
    llm_config=model(["Why did the actor break up with the thread? Too much shared state.", "Deadlock: my ex."]),
    human_input_mode="NEVER",
)
joe = ConversableAgent(
    "joe",
    system_message="Your name is Joe and you are part of a comedy duo. Keep it to one line.",
    llm_config=model(["I'd tell you a UDP joke, but you might not get it.", "At least our messages arrive in order!"]),
    human_input_mode="NEVER",
)

result = joe.initiate_chat(cathy, message="Cathy, tell me a joke.", max_turns=2)
print(f"turns: {len(result.chat_history) // 2}, ended because: {result.stop_reason}")
print(f"summary: {result.summary}")
