"""A scripted chat-completion client: the offline default for tests and samples."""

from ._replay_client import ReplayChatCompletionClient, ReplayChatCompletionClientConfig

__all__ = ["ReplayChatCompletionClient", "ReplayChatCompletionClientConfig"]
