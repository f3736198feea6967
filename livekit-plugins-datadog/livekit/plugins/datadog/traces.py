"""`instrument(..., traces=True)`: LiveKit's own OpenTelemetry spans to the Datadog Agent's OTLP/HTTP receiver.

Installed once per process through LiveKit's `telemetry.set_tracer_provider`. A tracer provider the
user already gave LiveKit (or set as OpenTelemetry's global one) is used as it is: the exporter is
added to it, it is never replaced. Nothing runs on the event loop but LiveKit's own span bookkeeping:
spans wait in the bounded queue of a `BatchSpanProcessor`, whose worker thread strips transcript
attributes and exports them with a short timeout; a dead or slow receiver only drops spans.

Also the trace context the records carry (`current_ids`): OTel's hex ids, as Datadog's "Correlate
OpenTelemetry Traces and Logs" asks for JSON logs (top-level `trace_id` / `span_id`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace as otel_trace

from .log import logger

DEFAULT_ENDPOINT = "http://localhost:4318"
EXPORT_TIMEOUT_S = 2.0  # one OTLP request; the exporter's own retries stop at this deadline too
MAX_QUEUE_SIZE = 2048  # spans waiting for export; beyond that new spans are dropped, never waited for
SCHEDULE_DELAY_MS = 1000

# Attributes that carry what was said or typed. LiveKit 1.8 marks them `lk.pii.*` (its own
# `telemetry.pii.is_pii_attribute` is used as well when it exists); 1.2 names them plainly.
_TEXT_ATTRIBUTES = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.tool.description",
        "gen_ai.tool.definitions",
        "gen_ai.retrieval.query.text",
        "gen_ai.retrieval.documents",
        "gen_ai.memory.query.text",
        "gen_ai.memory.records",
        "gen_ai.evaluation.explanation",
        "exception.message",
        "exception.stacktrace",
        # livekit-agents 1.2 to 1.7 (telemetry/trace_types.py)
        "lk.user_input",
        "lk.instructions",
        "lk.chat_ctx",
        "lk.response.text",
        "lk.response.function_calls",
        "lk.function_tool.arguments",
        "lk.function_tool.output",
        "lk.input_text",
        "lk.user_transcript",
        "lk.session_options",
    }
)
# GenAI content events carry the message body in a generic `content` attribute: dropped whole
_TEXT_EVENTS = frozenset(
    {
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
        "gen_ai.choice",
        "gen_ai.client.inference.operation.details",
    }
)

try:  # livekit-agents 1.8+: LiveKit's own definition of a content attribute
    from livekit.agents.telemetry.pii import is_pii_attribute as _livekit_is_pii
except ImportError:
    _livekit_is_pii = None


def is_text_attribute(key: str) -> bool:
    if key in _TEXT_ATTRIBUTES or "pii" in key.split(".") or key.startswith("gen_ai.prompt.variable"):
        return True
    return bool(_livekit_is_pii is not None and _livekit_is_pii(key))


def current_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the current span, 32 and 16 lowercase hex digits, when sampled."""
    context = otel_trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        return format(context.trace_id, "032x"), format(context.span_id, "016x")
    return None


def traces_endpoint(environ: Any = os.environ) -> str:
    """OTLP/HTTP trace endpoint by the OpenTelemetry spec: the traces variable is used as it is, the
    generic one gets `/v1/traces` appended; the Datadog Agent's receiver on this host by default."""
    endpoint = (environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or "").strip()
    if endpoint:
        return endpoint
    base = (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip() or DEFAULT_ENDPOINT
    return base.rstrip("/") + "/v1/traces"


def resource_attributes(service: str | None, environ: Any = os.environ) -> dict[str, str]:
    """Unified service tagging: `service.name` (the service given, else DD_SERVICE, else
    OTEL_SERVICE_NAME), `deployment.environment` from DD_ENV, `service.version` from DD_VERSION."""
    attributes = {
        "service.name": service or environ.get("DD_SERVICE") or environ.get("OTEL_SERVICE_NAME"),
        "deployment.environment": environ.get("DD_ENV"),
        "service.version": environ.get("DD_VERSION"),
    }
    return {key: value for key, value in attributes.items() if value}


class _TextStrippingExporter:
    """Wraps the OTLP exporter: every span leaves without its content attributes and events.

    Runs in the BatchSpanProcessor's worker thread, so the copy costs the event loop nothing.
    """

    def __init__(self, exporter: Any) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[Any]) -> Any:
        return self._exporter.export([_stripped(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _stripped(span: Any) -> Any:
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status, StatusCode

    attributes = span.attributes or {}
    events = span.events or ()
    if not any(is_text_attribute(key) for key in attributes) and not any(
        event.name in _TEXT_EVENTS or any(is_text_attribute(key) for key in (event.attributes or {}))
        for event in events
    ):
        if not (span.status.status_code is StatusCode.ERROR and span.status.description):
            return span
    kept_events = [
        Event(
            event.name,
            {key: value for key, value in (event.attributes or {}).items() if not is_text_attribute(key)},
            event.timestamp,
        )
        for event in events
        if event.name not in _TEXT_EVENTS
    ]
    status = span.status
    if status.status_code is StatusCode.ERROR and status.description:
        status = Status(StatusCode.ERROR)  # an exception's message may quote the user
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes={key: value for key, value in attributes.items() if not is_text_attribute(key)},
        events=kept_events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


_lock = threading.Lock()
_installed: dict[str, Any] = {}  # once per process: {"provider", "processor", "endpoint", "include_text"}


def installation() -> dict[str, Any]:
    return dict(_installed)


def install(service: str | None, *, include_text: bool) -> Any:
    """Send LiveKit's spans to the Datadog Agent; returns the provider that carries them, or None.

    The first call of the process decides (service, endpoint, text): later calls return the same
    provider. Never raises; a failure is logged once and the agent goes on without traces.
    """
    with _lock:
        if _installed:
            return _installed["provider"]
        try:
            return _install(service, include_text=include_text)
        except Exception:
            logger.warning("livekit-plugins-datadog could not set up trace export", exc_info=True)
            _installed["provider"] = None
            return None


def _user_provider() -> Any:
    """The SDK tracer provider the app already gave LiveKit, or set as OpenTelemetry's global one."""
    from opentelemetry.sdk.trace import TracerProvider

    from livekit.agents import telemetry

    for provider in (getattr(telemetry.tracer, "_tracer_provider", None), otel_trace.get_tracer_provider()):
        if isinstance(provider, TracerProvider):
            return provider
    return None


def _install(service: str | None, *, include_text: bool) -> Any:
    import inspect

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from livekit.agents import telemetry

    endpoint = traces_endpoint()
    exporter: Any = OTLPSpanExporter(endpoint=endpoint, timeout=EXPORT_TIMEOUT_S)
    if not include_text:
        exporter = _TextStrippingExporter(exporter)
    processor = BatchSpanProcessor(
        exporter,
        max_queue_size=MAX_QUEUE_SIZE,
        schedule_delay_millis=SCHEDULE_DELAY_MS,
        export_timeout_millis=EXPORT_TIMEOUT_S * 1000,
    )
    provider = _user_provider()
    if provider is not None:
        provider.add_span_processor(processor)  # the app's provider, resource and sampler stay
        owner = "app"
    else:
        provider = TracerProvider(resource=Resource.create(resource_attributes(service)))
        provider.add_span_processor(processor)
        options: dict[str, Any] = {}
        if "allow_pii" in inspect.signature(telemetry.set_tracer_provider).parameters:
            options["allow_pii"] = include_text  # LiveKit's own switch (1.8+), before every exporter
        telemetry.set_tracer_provider(provider, **options)
        owner = "companion"
    _installed.update(
        provider=provider, processor=processor, endpoint=endpoint, include_text=include_text, owner=owner
    )
    return provider


def flush_soon() -> None:
    """Ask the export thread to send what is queued (a job process may exit soon after a close),
    without waiting for it."""
    processor = _installed.get("processor")
    if processor is None:
        return
    threading.Thread(target=processor.force_flush, args=(int(EXPORT_TIMEOUT_S * 1000),), daemon=True).start()
