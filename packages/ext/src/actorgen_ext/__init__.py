"""actorgen-ext: integrations for actorgen_core, API-compatible with the matching parts of autogen_ext.

- ``actorgen_ext.models.openai``: ``OpenAIChatCompletionClient`` for OpenAI-compatible servers.
- ``actorgen_ext.models.replay``: ``ReplayChatCompletionClient``, scripted and offline.
- ``actorgen_ext.code_executors.local``: ``LocalCommandLineCodeExecutor`` (not a sandbox).

See docs/ext.md.
"""

__all__: list[str] = []
