"""The model objects whose own `metrics_collected` emitters feed the companion (livekit-agents 1.8+).

LiveKit's AgentActivity subscribes to the LLM, STT and TTS of the running agent (the agent's own
model, else the session's), to the realtime session of a realtime model, and to the adaptive
interruption detector; it re-subscribes when `update_agent` or a handoff starts a new activity.
`ModelSources` follows the same set so that every request is seen exactly once.
"""

from __future__ import annotations

from typing import Any, Callable

from livekit.agents import llm, stt, tts
from livekit.agents.utils import is_given

MetricsHandler = Callable[[Any, Any], None]  # (metrics, emitting object)


def running_agent(session: Any) -> Any:
    try:
        return session.current_agent
    except RuntimeError:  # not started yet: the first handoff item will resync
        return None


def current_emitters(session: Any) -> list[Any]:
    """The emitters LiveKit's running activity listens to, in the same resolution order."""
    agent = running_agent(session)
    emitters = []
    resolved: dict[str, Any] = {}
    for name in ("llm", "stt", "tts"):
        model = getattr(agent, name) if agent is not None else None
        resolved[name] = model if is_given(model) and model is not None else getattr(session, name, None)
    for model in resolved.values():
        if isinstance(model, (llm.LLM, stt.STT, tts.TTS)):
            emitters.append(model)
    if agent is not None and isinstance(resolved["llm"], llm.RealtimeModel):
        try:
            emitters.append(agent.realtime_llm_session)
        except RuntimeError:  # created when the activity starts; synced again at the next speech
            pass
    # The adaptive interruption detector is per activity and has no public accessor.
    detector = getattr(getattr(session, "_activity", None), "_interruption_detector", None)
    if detector is not None and hasattr(detector, "on"):
        emitters.append(detector)
    return emitters


def activity_turn_detection(session: Any) -> Any:
    """The turn detection the running activity resolved (what LiveKit puts in EOU metadata)."""
    return getattr(getattr(session, "_activity", None), "_turn_detection", None)


def fallback_instances(session: Any) -> list[Any]:
    """The instances behind the FallbackAdapters of the session and of its running agent."""
    agent = running_agent(session)
    instances = []
    for name in ("llm", "stt", "tts"):
        for owner in (session, agent):
            model = getattr(owner, name, None) if owner is not None else None
            # LiveKit's adapters keep their instances in `_llm_instances`, `_stt_instances`, `_tts_instances`
            instances += getattr(model, f"_{name}_instances", None) or []
    return instances


class ModelSources:
    """Keeps one `metrics_collected` subscription on each emitter of the running agent."""

    def __init__(self, handler: MetricsHandler) -> None:
        self._handler = handler
        self._subscribed: dict[int, tuple[Any, Callable[[Any], None]]] = {}

    def sync(self, session: Any, *, drop_stale: bool) -> None:
        """Subscribe to new emitters; with `drop_stale` (after a handoff) leave the old ones."""
        emitters = {id(emitter): emitter for emitter in current_emitters(session)}
        if drop_stale:
            for key in [key for key in self._subscribed if key not in emitters]:
                self._unsubscribe(key)
        for key, emitter in emitters.items():
            if key not in self._subscribed:
                callback = self._callback(emitter)
                emitter.on("metrics_collected", callback)
                self._subscribed[key] = (emitter, callback)

    def close(self) -> None:
        for key in list(self._subscribed):
            self._unsubscribe(key)

    def _callback(self, emitter: Any) -> Callable[[Any], None]:
        def on_metrics_collected(metrics: Any) -> None:
            self._handler(metrics, emitter)

        return on_metrics_collected

    def _unsubscribe(self, key: int) -> None:
        emitter, callback = self._subscribed.pop(key)
        emitter.off("metrics_collected", callback)
