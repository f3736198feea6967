"""Datadog companion for LiveKit Agents.

    from livekit.plugins import datadog

    session = AgentSession(...)
    datadog.instrument(session, service="support-bot", traces=True)
    ...
    datadog.set_outcome(session, "resolved")  # from the agent's code, e.g. in a tool

writes one compact record per model request, turn, error and conversation through Python logging
(logger `livekit.plugins.datadog`), which the Datadog LiveKit check reads from the agent's log.
"""

import threading

from livekit.agents import Plugin

from .instrumentation import SessionInstrumentation, instrument, set_outcome
from .log import logger
from .version import __version__

__all__ = ["SessionInstrumentation", "__version__", "instrument", "set_outcome"]


class DatadogPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


# A registered plugin's logger gets the app's level from LiveKit's setup_logging; any other
# `livekit.*` logger is held at WARNING in production, which would drop every record.
if threading.current_thread() is threading.main_thread():
    Plugin.register_plugin(DatadogPlugin())
