"""Builds the fields of companion records (docs/companion-records.md) from LiveKit objects.

Pure functions: they read attributes defensively (fields come and go across livekit-agents 1.x)
and never return `None` values, so an absent measurement is an absent key.
"""

from __future__ import annotations

import re
from typing import Any

# metrics `type` -> (record event, fields copied as they are)
_METRICS_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "llm_metrics": (
        "llm_request",
        (
            "duration",
            "ttft",
            "prompt_tokens",
            "prompt_cached_tokens",
            "cache_creation_tokens",
            "completion_tokens",
            "reasoning_tokens",
            "total_tokens",
            "tokens_per_second",
            "request_id",
            "speech_id",
            "cancelled",
        ),
    ),
    "realtime_model_metrics": (
        "realtime_request",
        ("duration", "ttft", "input_tokens", "output_tokens", "total_tokens", "request_id", "cancelled"),
    ),
    "tts_metrics": (
        "tts_request",
        (
            "ttfb",
            "duration",
            "audio_duration",
            "characters_count",
            "request_id",
            "speech_id",
            "segment_id",
            "streamed",
            "cancelled",
        ),
    ),
    "stt_metrics": (
        "stt_request",
        ("duration", "audio_duration", "input_tokens", "output_tokens", "request_id", "streamed"),
    ),
    "eou_metrics": (
        "eou",
        ("end_of_utterance_delay", "transcription_delay", "on_user_turn_completed_delay", "speech_id"),
    ),
    "interruption_metrics": ("interruption", ("num_interruptions", "num_backchannels")),
}

# Events whose metrics LiveKit stamps with the id of the speech (agent turn) that caused them.
SPEECH_EVENTS = frozenset({"llm_request", "tts_request"})

_USER_TURN_METRICS = ("transcription_delay", "end_of_turn_delay", "on_user_turn_completed_delay")
_AGENT_TURN_METRICS = ("e2e_latency", "llm_node_ttft", "tts_node_ttfb", "playback_latency")

# ErrorEvent.error.type -> record `error_kind` (the keys of LiveKit's own SessionReport counts)
ERROR_KINDS = {
    "llm_error": "llm",
    "stt_error": "stt",
    "tts_error": "tts",
    "realtime_model_error": "realtime",
    "interruption_detection_error": "interruption",
}


def compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _get(obj: Any, key: str) -> Any:
    """Attribute of a pydantic model or key of a dict (metadata arrives as either)."""
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _names(model: Any, provider: Any) -> dict[str, Any]:
    """The `model` and `provider` fields, kept only when they are strings."""
    return {
        "model": model if isinstance(model, str) else None,
        "provider": provider if isinstance(provider, str) else None,
    }


def _names_of(obj: Any) -> dict[str, Any]:
    """The `model` and `provider` fields from an object's attributes (a model object, a turn detector)."""
    return _names(getattr(obj, "model", None), getattr(obj, "provider", None))


def _model_fields(metadata: Any, source: Any) -> dict[str, Any]:
    if metadata is None and source is not None:
        # before 1.2.12 metrics carry no metadata; the emitting model object knows its name
        return _names_of(source)
    return _names(_get(metadata, "model_name"), _get(metadata, "model_provider"))


def metrics_record(metrics: Any, source: Any = None) -> tuple[str, dict[str, Any]] | None:
    """(event, fields) for one LiveKit metrics object, or None for kinds the schema leaves out."""
    spec = _METRICS_FIELDS.get(getattr(metrics, "type", None))
    if spec is None:
        return None
    event, names = spec
    fields = _model_fields(getattr(metrics, "metadata", None), source)
    fields.update((name, getattr(metrics, name, None)) for name in names)
    if isinstance(fields.get("ttft"), (int, float)) and fields["ttft"] < 0:
        fields["ttft"] = None  # LiveKit's -1: no token was generated
    if event == "realtime_request":
        fields["input_cached_tokens"] = _get(getattr(metrics, "input_token_details", None), "cached_tokens")
    return event, compact(fields)


def is_turn_message(item: Any) -> bool:
    return getattr(item, "type", None) == "message" and getattr(item, "role", None) in ("user", "assistant")


def turn_record(item: Any, *, include_text: bool) -> dict[str, Any]:
    """Fields of a `turn` record for a user or assistant ChatMessage."""
    role = item.role
    report = getattr(item, "metrics", None) or {}  # ChatMessage.metrics exists since 1.3
    fields: dict[str, Any] = {
        "role": role,
        "item_id": getattr(item, "id", None),
        "interrupted": bool(getattr(item, "interrupted", False)),
    }
    for name in _USER_TURN_METRICS if role == "user" else _AGENT_TURN_METRICS:
        fields[name] = report.get(name)
    if role == "assistant":
        for prefix in ("llm", "tts"):
            metadata = report.get(f"{prefix}_metadata")
            fields[f"{prefix}_model"] = _get(metadata, "model_name")
            fields[f"{prefix}_provider"] = _get(metadata, "model_provider")
    if include_text:
        fields["text"] = getattr(item, "text_content", None)
    return compact(fields)


def eou_from_user_turn(item: Any, turn_detection: Any) -> dict[str, Any] | None:
    """The `eou` record LiveKit's EOUMetrics would carry, rebuilt from the user message.

    LiveKit fills both from the same end-of-turn measurements (EOUMetrics uses `or 0.0` for a
    missing delay); from 1.8 on the EOU metrics reach only the deprecated session event.
    """
    report = getattr(item, "metrics", None) or {}
    if report.get("end_of_turn_delay") is None and report.get("transcription_delay") is None:
        return None  # a typed or injected message: no end-of-utterance decision was made
    names = _names("unknown", turn_detection) if isinstance(turn_detection, str) else _names_of(turn_detection)
    return compact(
        {
            **names,
            "end_of_utterance_delay": report.get("end_of_turn_delay") or 0.0,
            "transcription_delay": report.get("transcription_delay") or 0.0,
            "on_user_turn_completed_delay": report.get("on_user_turn_completed_delay"),
        }
    )


def error_record(event: Any) -> dict[str, Any]:
    """Fields of an `error` record for a session ErrorEvent: never the exception's message."""
    error = event.error
    recoverable = getattr(error, "recoverable", None)
    return _error_fields(error, getattr(event, "source", None), recoverable)


def fallback_error_record(instance: Any, error: Any) -> dict[str, Any]:
    """Fields of an `error` record for a failed attempt of an instance behind a FallbackAdapter.

    LiveKit sends such an error to the instance only, never to the session: the adapter goes on
    with its next instance, so the attempt is recoverable whatever the instance's own retries
    decided (when every instance fails, the session gets an error event of its own).
    """
    return _error_fields(error, instance, True)


def _error_fields(error: Any, source: Any, recoverable: Any) -> dict[str, Any]:
    error_type = getattr(error, "type", None)
    exception = getattr(error, "error", None)
    return compact(
        {
            "error_kind": ERROR_KINDS.get(error_type, error_type),
            **_names_of(source),
            "recoverable": bool(recoverable) if recoverable is not None else None,
            "error_type": type(exception).__name__ if exception is not None else None,
            "label": getattr(error, "label", None),
        }
    )


def history_turns(session: Any) -> tuple[int, int]:
    """(user, agent) message counts of the session history, as LiveKit's SessionReport counts."""
    user = agent = 0
    for item in session.history.items:
        if is_turn_message(item):
            if item.role == "user":
                user += 1
            else:
                agent += 1
    return user, agent


def usage(session: Any) -> list[dict[str, Any]] | None:
    """Per-model usage as LiveKit's SessionReport dumps it (`session.usage` exists since 1.5)."""
    try:
        model_usage = session.usage.model_usage
    except AttributeError:
        return None
    return [{"type": entry.type, **entry.model_dump(exclude_defaults=True)} for entry in model_usage]


# What LiveKit tells the LLM when a tool raised anything but a ToolError (llm/utils.py and
# voice/generation.py `make_tool_output`, 1.2 to 1.8): the exception's message is never sent.
INTERNAL_TOOL_ERROR_OUTPUT = "An internal error occurred"

TOOL_OUTCOMES = ("ok", "error", "cancelled")
_OUTCOME_RE = re.compile(r"[a-z0-9_-]{1,32}")


def tool_error_kind(output: Any) -> bool | None:
    """For a failed call: True when the tool raised ToolError (its message went to the LLM), False
    for any other exception (LiveKit sent its generic message), None when there is no output."""
    if output is None or not getattr(output, "is_error", False):
        return None
    return getattr(output, "output", None) != INTERNAL_TOOL_ERROR_OUTPUT


def tool_call_record(
    *,
    name: str,
    call_id: str | None,
    duration: float | None,
    outcome: str,
    tool_error: bool | None,
    speech_id: str | None,
    call: Any = None,
    output: Any = None,
    include_text: bool,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "tool_name": name,
        "call_id": call_id,
        "duration": max(duration, 0.0) if duration is not None else None,
        "outcome": outcome,
        "tool_error": tool_error if outcome == "error" else None,
        "speech_id": speech_id,
    }
    if include_text:
        fields["arguments"] = getattr(call, "arguments", None)
        text = getattr(output, "output", None)
        fields["output"] = text if isinstance(text, str) else None
    return compact(fields)


def normalize_outcome(value: Any) -> str | None:
    """The conversation's outcome, bounded: lower case, spaces and dots as `_`, at most 32 of
    [a-z0-9_-]; anything else is `other`. None (or an empty string) clears it."""
    if value is None:
        return None
    text = re.sub(r"[\s.]+", "_", str(value).strip().lower())
    if not text:
        return None
    return text if _OUTCOME_RE.fullmatch(text) else "other"
