"""actorgen ext."""

__all__: list[str] = []
