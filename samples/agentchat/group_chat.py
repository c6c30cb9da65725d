"""A group chat of three, first with round_robin, then with the model choosing ("auto").

Run it with:  uv run python samples/agentchat/group_chat.py
"""

from sample_models import model

from actorgen_agentchat import ConversableAgent, GroupChat, GroupChatManager


def team(round_number: int) -> list[ConversableAgent]:
    planner = ConversableAgent(
        "planner",
        system_message="You plan a weekend trip. Propose, then refine. One or two sentences.",
        description="Plans the trip.",
        llm_config=model([f"Plan {round_number}: two days in Lisbon, trams and pastries."]),
        human_input_mode="NEVER",
    )
    critic = ConversableAgent(
        "critic",
        system_message="You point out one problem with the plan. One sentence.",
        description="Finds problems with plans.",
        llm_config=model(["Trams are crowded on Saturday; go early."]),
        human_input_mode="NEVER",
    )
    budget = ConversableAgent(
        "budget",
        system_message="You estimate the cost, then say TERMINATE on its own line.",
        description="Estimates costs and ends the discussion.",
        llm_config=model(["About 300 euros each.\nTERMINATE"]),
        human_input_mode="NEVER",
    )
    return [planner, critic, budget]


# round_robin: planner, critic, budget in order.
planner, critic, budget = team(1)
groupchat = GroupChat(agents=[planner, critic, budget], max_round=4, speaker_selection_method="round_robin")
manager = GroupChatManager(
    groupchat, llm_config=False, is_termination_msg=lambda message: "TERMINATE" in str(message.get("content"))
)
result = planner.initiate_chat(manager, message="Let's plan a weekend away.")
print(f"round_robin speakers: {[m['name'] for m in groupchat.messages]}; ended because: {result.stop_reason}")

# auto: the manager's model picks each next speaker from the names and descriptions.
planner, critic, budget = team(2)
groupchat = GroupChat(agents=[planner, critic, budget], max_round=4, speaker_selection_method="auto")
manager = GroupChatManager(groupchat, llm_config=model(["critic", "planner", "budget"]))
result = planner.initiate_chat(manager, message="Let's plan another weekend away.")
print(f"auto speakers: {[m['name'] for m in groupchat.messages]}; ended because: {result.stop_reason}")
