"""`instrument(session)`: subscribe to one AgentSession and write the companion's records."""

from __future__ import annotations

import functools
import logging
import time
import weakref
from collections import Counter
from typing import Any, Callable

from . import records, traces
from ._compat import HAS_TOOL_LIFECYCLE_EVENTS, SDK_VERSION, SESSION_METRICS_DEPRECATED, current_speech_id
from .log import logger
from .tools import ToolCalls
from .version import __version__

# `livekit.schema` of every record: the version of docs/companion-records.schema.json (the tests check it)
SCHEMA_VERSION = 2
LANGUAGE = "python"

_traces = traces  # `instrument()`'s `traces` argument shadows the module name

_instrumented: weakref.WeakKeyDictionary[Any, SessionInstrumentation] = weakref.WeakKeyDictionary()


def instrument(
    session: Any,
    *,
    service: str | None = None,
    include_text: bool = False,
    traces: bool = False,
    outcome: str | None = None,
) -> SessionInstrumentation:
    """Write Datadog companion records for `session` through the `livekit.plugins.datadog` logger.

    Call it once, right after creating the AgentSession (before or after `start`). Records carry
    no transcript text unless `include_text=True`. `traces=True` also sends LiveKit's OpenTelemetry
    spans to the Datadog Agent's OTLP/HTTP receiver (once per process, see `traces.py`), without
    transcript attributes unless `include_text=True`. `outcome` is the conversation's outcome
    unless the agent's code declares another with `set_outcome`. A second call for the same session
    returns the first instrumentation. Failures inside the companion are logged once and never raised.
    """
    existing = _instrumented.get(session)
    if existing is not None:
        return existing
    if traces:
        _traces.install(service, include_text=include_text)
    instrumentation = SessionInstrumentation(session, service=service, include_text=include_text, outcome=outcome)
    _instrumented[session] = instrumentation
    instrumentation.start()
    return instrumentation


def set_outcome(session: Any, outcome: str | None) -> str | None:
    """Declare how the conversation of `session` ended (e.g. `"resolved"`, `"escalated"`); the
    `conversation` record carries it. Bounded: lower case, at most 32 of [a-z0-9_-], else `other`.
    Returns the value recorded (None when the session is not instrumented). Never raises."""
    try:
        instrumentation = _instrumented.get(session)
        if instrumentation is None:
            return None
        return instrumentation.set_outcome(outcome)
    except Exception:
        return None


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

    def __init__(self, session: Any, *, service: str | None, include_text: bool, outcome: str | None = None) -> None:
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
        self._outcome = records.normalize_outcome(outcome)
        self._false_interruptions = 0
        self._interrupted_turns = 0
        self._tools = ToolCalls(
            self._on_tool_call, include_text=include_text, lifecycle_events=HAS_TOOL_LIFECYCLE_EVENTS
        )

    def set_outcome(self, outcome: str | None) -> str | None:
        self._outcome = records.normalize_outcome(outcome)
        return self._outcome

    @property
    def outcome(self) -> str | None:
        return self._outcome

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
            "speech_created": self._on_speech_created,
            "agent_false_interruption": self._on_false_interruption,
        }
        if HAS_TOOL_LIFECYCLE_EVENTS:
            handlers["tool_execution_updated"] = self._on_tool_execution_updated
        if SESSION_METRICS_DEPRECATED:
            from .sources import ModelSources

            self._sources = ModelSources(self._on_model_metrics)
            self._sources.sync(self._session, drop_stale=False)
            # a realtime session or interruption detector appears only once its activity runs
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
    def _on_speech_created(self, event: Any) -> None:
        if self._closed:
            return
        self._tools.watch(event.speech_handle, self._on_tool_item)
        if self._sources is not None:
            self._on_activity_event(event)

    @_guarded
    def _on_tool_item(self, item: Any, speech_id: str | None) -> None:
        if not self._closed:
            self._tools.on_item(item, speech_id)

    @_guarded
    def _on_tool_execution_updated(self, event: Any) -> None:
        if not self._closed:
            self._tools.on_lifecycle(event)

    def _on_tool_call(self, fields: dict[str, Any]) -> None:
        self._write("tool_call", fields)

    @_guarded
    def _on_false_interruption(self, event: Any) -> None:
        if self._closed:
            return
        self._false_interruptions += 1
        self._write("false_interruption", records.compact({"resumed": getattr(event, "resumed", None)}))

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
        fields = records.turn_record(item, include_text=self._include_text)
        if fields["role"] == "assistant" and fields["interrupted"]:
            self._interrupted_turns += 1
        self._write("turn", fields)
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
        try:
            self._tools.close()
        except Exception:
            self._internal_failure("tool_calls")
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
                "outcome": self._outcome,
                "tool_calls": self._tools.count,
                "interrupted_turns": self._interrupted_turns,
                "false_interruptions": self._false_interruptions,
                "trace_id": self._trace_id,
                "language": LANGUAGE,
                "sdk_version": SDK_VERSION,
            }
            self._write("conversation", records.compact(fields))
        finally:
            self._detach()
            _traces.flush_soon()

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
        # the active span, as Datadog links a JSON log to an OTel trace (top-level hex ids)
        ids = traces.current_ids()
        if ids is not None and extra.setdefault("trace_id", ids[0]) == ids[0]:
            extra["span_id"] = ids[1]
        logger.info("livekit.datadog %s", event, extra=extra)

    def _note_trace_id(self) -> None:
        """Remember the OTel trace of the session's spans, once a sampled one is current."""
        if self._trace_id is not None:
            return
        ids = traces.current_ids()
        if ids is not None:
            self._trace_id = ids[0]

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
