"""An assistant calls a registered function; the user proxy executes it and reports the result.

Run it with:  uv run python samples/agentchat/tool_use.py
"""

from typing import Annotated

from sample_models import model

from actorgen_agentchat import AssistantAgent, UserProxyAgent, register_function
from actorgen_core import FunctionCall
from actorgen_core.models import CreateResult, RequestUsage


def currency_rate(
    base: Annotated[str, "currency to convert from, e.g. EUR"], quote: Annotated[str, "currency to convert to"]
) -> float:
    rates = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}
    return rates.get((base.upper(), quote.upper()), 1.0)


asks_for_the_rate = CreateResult(
    finish_reason="function_calls",
    content=[FunctionCall(id="call-1", name="currency_rate", arguments='{"base": "EUR", "quote": "USD"}')],
    usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
    cached=False,
)
assistant = AssistantAgent(
    "assistant",
    system_message="Use the tools to answer. When you have the answer, end your message with TERMINATE.",
    llm_config=model([asks_for_the_rate, "100 EUR is 108.00 USD. TERMINATE"]),
)
user = UserProxyAgent(
    "user",
    human_input_mode="NEVER",
    code_execution_config=False,
    is_termination_msg=lambda message: str(message.get("content") or "").rstrip().endswith("TERMINATE"),
    max_consecutive_auto_reply=5,
)
register_function(currency_rate, caller=assistant, executor=user, description="The exchange rate between currencies.")

result = user.initiate_chat(assistant, message="How many US dollars is 100 EUR?")
print(f"ended because: {result.stop_reason}")
print(f"answer: {result.summary}")
