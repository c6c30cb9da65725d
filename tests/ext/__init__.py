"""Tests of actorgen_ext: model clients against a local HTTP server, and the local code executor."""
