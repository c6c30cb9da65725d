"""actorgen agentchat."""

__all__: list[str] = []
