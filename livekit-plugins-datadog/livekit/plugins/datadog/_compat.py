"""What the installed livekit-agents offers. The companion supports 1.2 and later."""

from __future__ import annotations

import re
from typing import Any

from livekit.agents import __version__ as SDK_VERSION

try:  # the context variable LiveKit itself reads to stamp speech ids (1.2 and later)
    from livekit.agents.voice.agent_activity import _SpeechHandleContextVar
except ImportError:  # pragma: no cover - a future release may move it; speech ids are then omitted
    _SpeechHandleContextVar = None


def _minor_version(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


# From 1.8 on, AgentSession's own `metrics_collected` event is deprecated (subscribing logs a
# WARNING); the companion then listens to each model's own emitter instead. Before 1.8 the session
# event is the documented API, and the only one that carries end-of-utterance metrics.
SESSION_METRICS_DEPRECATED = _minor_version(SDK_VERSION) >= (1, 8)


def current_speech_id() -> str | None:
    """Id of the speech (agent turn) whose task emitted the current metrics, if any."""
    if _SpeechHandleContextVar is None:
        return None
    handle: Any = _SpeechHandleContextVar.get(None)
    return getattr(handle, "id", None)


def _has_session_event(name: str) -> bool:
    try:
        from livekit.agents.voice.events import EventTypes
    except ImportError:  # pragma: no cover
        return False
    return name in getattr(EventTypes, "__args__", ())


# 1.8+: `tool_execution_updated` reports each tool call's start and its single end (done, error, cancelled)
HAS_TOOL_LIFECYCLE_EVENTS = _has_session_event("tool_execution_updated")
