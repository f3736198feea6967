"""`instrument(session)`: subscribe to one AgentSession and write the companion's records."""

from __future__ import annotations

import functools
import logging
import time
import weakref
from collections import Counter
from typing import Any, Callable

from . import records
from ._compat import SDK_VERSION, SESSION_METRICS_DEPRECATED, current_speech_id
from .log import logger
from .version import __version__

SCHEMA_VERSION = 1
LANGUAGE = "python"

try:
    from opentelemetry import trace as _otel_trace
except ImportError:  # pragma: no cover - livekit-agents depends on opentelemetry-api
    _otel_trace = None

_instrumented: weakref.WeakKeyDictionary[Any, SessionInstrumentation] = weakref.WeakKeyDictionary()


def instrument(session: Any, *, service: str | None = None, include_text: bool = False) -> SessionInstrumentation:
    """Write Datadog companion records for `session` through the `livekit.plugins.datadog` logger.

    Call it once, right after creating the AgentSession (before or after `start`). Records carry
    no transcript text unless `include_text=True`. A second call for the same session returns the
    first instrumentation. Failures inside the companion are logged once and never raised.
    """
    existing = _instrumented.get(session)
    if existing is not None:
        return existing
    instrumentation = SessionInstrumentation(session, service=service, include_text=include_text)
    _instrumented[session] = instrumentation
    instrumentation.start()
    return instrumentation


def _guarded(method: Callable[..., None]) -> Callable[..., None]:
    """Run an event handler without ever letting an exception reach the user's agent."""

    @functools.wraps(method)
    def wrapper(self: SessionInstrumentation, *args: Any) -> None:
        try:
            self._note_trace_id()
            method(self, *args)
        except Exception:
            self._internal_failure(method.__name__)

    return wrapper


class SessionInstrumentation:
    """The subscriptions and running counts of one instrumented AgentSession."""

    def __init__(self, session: Any, *, service: str | None, include_text: bool) -> None:
        self._session = session
        self._common: dict[str, Any] = {"livekit.schema": SCHEMA_VERSION}
        if service:
            self._common["service"] = service
        self._include_text = include_text
        self._started_at = time.time()
        self._started_monotonic = time.monotonic()
        self._errors: Counter[str] = Counter()
        self._trace_id: str | None = None
        self._closed = False
        self._warned = False
        self._session_handlers: dict[str, Callable[..., None]] = {}
        self._sources: Any = None  # ModelSources on livekit-agents 1.8+
        self._fallback_handlers: dict[int, tuple[Any, Callable[..., None]]] = {}

    @property
    def trace_id(self) -> str | None:
        return self._trace_id

    # -- lifecycle ---------------------------------------------------------------------------

    @_guarded
    def start(self) -> None:
        _ensure_logger_enabled()
        self._write(
            "session_start",
            {"sdk_version": SDK_VERSION, "plugin_version": __version__, "language": LANGUAGE},
        )
        handlers: dict[str, Callable[..., None]] = {
            "conversation_item_added": self._on_conversation_item_added,
            "error": self._on_error,
            "close": self._on_close,
        }
        if SESSION_METRICS_DEPRECATED:
            from .sources import ModelSources

            self._sources = ModelSources(self._on_model_metrics)
            self._sources.sync(self._session, drop_stale=False)
            # a realtime session or interruption detector appears only once its activity runs
            handlers["speech_created"] = self._on_activity_event
            handlers["agent_state_changed"] = self._on_activity_event
        else:
            handlers["metrics_collected"] = self._on_session_metrics
        for event, handler in handlers.items():
            self._session.on(event, handler)
        self._session_handlers = handlers
        self._watch_fallback_instances()

    def _watch_fallback_instances(self) -> None:
        """Subscribe to the errors of the instances behind FallbackAdapters, which never reach the
        session (the session's, at start; the running agent's, as its activity starts on 1.8+)."""
        from .sources import fallback_instances

        for instance in fallback_instances(self._session):
            if id(instance) not in self._fallback_handlers and hasattr(instance, "on"):
                handler = functools.partial(self._on_fallback_error, instance)
                instance.on("error", handler)
                self._fallback_handlers[id(instance)] = (instance, handler)

    def _detach(self) -> None:
        for event, handler in self._session_handlers.items():
            self._session.off(event, handler)
        self._session_handlers = {}
        for instance, handler in self._fallback_handlers.values():
            instance.off("error", handler)
        self._fallback_handlers = {}
        if self._sources is not None:
            self._sources.close()

    # -- handlers ----------------------------------------------------------------------------

    @_guarded
    def _on_session_metrics(self, event: Any) -> None:
        self._write_metrics(event.metrics, None)

    @_guarded
    def _on_model_metrics(self, metrics: Any, emitter: Any) -> None:
        self._write_metrics(metrics, emitter)

    @_guarded
    def _on_activity_event(self, _event: Any) -> None:
        if not self._closed:
            self._sources.sync(self._session, drop_stale=False)
            self._watch_fallback_instances()

    @_guarded
    def _on_conversation_item_added(self, event: Any) -> None:
        item = event.item
        if getattr(item, "type", None) == "agent_handoff":
            # a new activity starts with the new agent's models; the old one has been closed
            if self._sources is not None:
                self._sources.sync(self._session, drop_stale=True)
            self._watch_fallback_instances()
            return
        if not records.is_turn_message(item):
            return
        self._write("turn", records.turn_record(item, include_text=self._include_text))
        if self._sources is not None and item.role == "user":
            from .sources import activity_turn_detection

            eou = records.eou_from_user_turn(item, activity_turn_detection(self._session))
            if eou is not None:
                self._write("eou", eou)

    @_guarded
    def _on_error(self, event: Any) -> None:
        self._write_error(records.error_record(event))

    @_guarded
    def _on_fallback_error(self, instance: Any, error: Any) -> None:
        if not self._closed:
            self._write_error(records.fallback_error_record(instance, error))

    def _write_error(self, fields: dict[str, Any]) -> None:
        self._errors[fields.get("error_kind", "unknown")] += 1
        self._write("error", fields)

    @_guarded
    def _on_close(self, event: Any) -> None:
        if self._closed:
            return
        self._closed = True  # one conversation record, and nothing after it
        try:
            reason = getattr(event, "reason", None)
            user_turns, agent_turns = records.history_turns(self._session)
            fields = {
                "close_reason": getattr(reason, "value", reason),
                "user_turns": user_turns,
                "agent_turns": agent_turns,
                "duration": time.monotonic() - self._started_monotonic,
                "started_at": self._started_at,
                "errors": dict(self._errors),
                "usage": self._optional(records.usage),
                "trace_id": self._trace_id,
                "language": LANGUAGE,
                "sdk_version": SDK_VERSION,
            }
            self._write("conversation", records.compact(fields))
        finally:
            self._detach()

    # -- helpers -----------------------------------------------------------------------------

    def _optional(self, read: Callable[[Any], Any]) -> Any:
        """A field of the conversation record that must not cost the record if reading it fails."""
        try:
            return read(self._session)
        except Exception:
            self._internal_failure(read.__name__)
            return None

    def _write_metrics(self, metrics: Any, emitter: Any) -> None:
        if self._closed:
            return
        record = records.metrics_record(metrics, emitter)
        if record is None:
            return
        event, fields = record
        if event in records.SPEECH_EVENTS and "speech_id" not in fields:
            # our handler may run before LiveKit's own, which stamps the id from this context
            speech_id = current_speech_id()
            if speech_id is not None:
                fields["speech_id"] = speech_id
        self._write(event, fields)

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        extra = {"livekit.event": event, **self._common, **fields}
        logger.info("livekit.datadog %s", event, extra=extra)

    def _note_trace_id(self) -> None:
        """Remember the OTel trace of the session's spans, once a sampled one is current."""
        if self._trace_id is not None or _otel_trace is None:
            return
        context = _otel_trace.get_current_span().get_span_context()
        if context.is_valid and context.trace_flags.sampled:
            self._trace_id = format(context.trace_id, "032x")

    def _internal_failure(self, where: str) -> None:
        if self._warned:
            return
        self._warned = True
        try:
            logger.warning(
                "livekit-plugins-datadog failed in %s; some Datadog records of this session may be missing",
                where,
                exc_info=True,
            )
        except Exception:  # noqa: S110 - logging itself failed; the agent must go on
            pass


def _ensure_logger_enabled() -> None:
    """Give our logger the app's level, as LiveKit's setup_logging does for registered plugins.

    Registration at import covers the usual case (`from livekit.plugins import datadog` at the top
    of the agent file). When the package is first imported inside a job, the job process inherits
    `livekit` at WARNING from the worker and would drop every record.
    """
    if logger.level == logging.NOTSET and not logger.isEnabledFor(logging.INFO):
        root_level = logging.getLogger().getEffectiveLevel()
        if root_level <= logging.INFO:
            logger.setLevel(root_level)
