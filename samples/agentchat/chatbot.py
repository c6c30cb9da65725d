"""A chatbot in one call: generate_reply on a model-backed ConversableAgent.

Run it with:  uv run python samples/agentchat/chatbot.py
"""

from sample_models import model

from actorgen_agentchat import ConversableAgent

agent = ConversableAgent(
    "chatbot",
    system_message="You are a friendly assistant. Answer in one short sentence.",
    llm_config=model(["Hello! An actor is an object that only talks to the world through messages."]),
    human_input_mode="NEVER",
)

question = "Hi! What is an actor, in one sentence?"
print(f"user: {question}")
reply = agent.generate_reply(messages=[{"role": "user", "content": question}])
text = reply if isinstance(reply, str) else str(reply and reply.get("content"))
print(f"chatbot: {text}")
