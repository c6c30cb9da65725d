"""Model clients: ``actorgen_ext.models.openai`` (any OpenAI-compatible server) and
``actorgen_ext.models.replay`` (scripted, offline)."""

__all__: list[str] = []
