ROOT_LOGGER_NAME = "actorgen_core"
"""Logger for human-readable runtime messages."""

EVENT_LOGGER_NAME = "actorgen_core.events"
"""Logger that receives structured event objects (see ``actorgen_core.logging``)."""

TRACE_LOGGER_NAME = "actorgen_core.trace"
"""Logger for developer-level tracing output."""
