"""The companion's records of real offline AgentSessions, checked against LiveKit's own numbers.

Expected values come from LiveKit: its metrics events, error and close events, `session.history`
and `session.usage` (recorded by `conversations.py` next to the log), never from the records.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from conftest import COMPANION_LOGGER, Run

from livekit.agents import AgentSession, llm
from livekit.agents import __version__ as SDK_VERSION

HAS_MESSAGE_METRICS = "metrics" in llm.ChatMessage.model_fields  # livekit-agents 1.3+
HAS_SESSION_USAGE = hasattr(AgentSession, "usage")  # 1.5+

SCENARIOS = ["basic", "errors", "text", "short"]
ERROR_KINDS = {"llm_error": "llm", "stt_error": "stt", "tts_error": "tts"}


def _metrics(conversation: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in conversation["metrics"] if m["type"] == kind]


def _by_request_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keyed = {item["request_id"]: item for item in items}
    assert len(keyed) == len(items), "request ids are unique per request"
    return keyed


def _model(metrics: dict[str, Any]) -> tuple[str | None, str | None]:
    metadata = metrics.get("metadata") or {}
    return metadata.get("model_name"), metadata.get("model_provider")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_llm_request_per_livekit_llm_metrics(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    expected = _by_request_id(_metrics(conversation, "llm_metrics"))
    records = _by_request_id(traced_run.records(conversation["job_id"], "llm_request"))
    assert expected and records.keys() == expected.keys()
    for request_id, metrics in expected.items():
        record = records[request_id]
        assert (record["model"], record["provider"]) == _model(metrics)
        for field in ("duration", "prompt_tokens", "prompt_cached_tokens", "completion_tokens", "total_tokens"):
            assert record[field] == metrics[field], field
        assert record.get("ttft") == (metrics["ttft"] if metrics["ttft"] >= 0 else None)
        assert record["speech_id"] == metrics["speech_id"] and record["speech_id"].startswith("speech_")
        assert record["cancelled"] is metrics["cancelled"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tts_request_per_livekit_tts_metrics(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    expected = _by_request_id(_metrics(conversation, "tts_metrics"))
    records = _by_request_id(traced_run.records(conversation["job_id"], "tts_request"))
    assert expected and records.keys() == expected.keys()
    for request_id, metrics in expected.items():
        record = records[request_id]
        assert (record["model"], record["provider"]) == _model(metrics)
        for field in ("characters_count", "audio_duration", "ttfb", "duration", "speech_id", "streamed"):
            assert record[field] == metrics[field], field


@pytest.mark.parametrize("scenario", ["basic", "errors", "text"])
def test_stt_request_per_livekit_stt_metrics(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    expected = _by_request_id(_metrics(conversation, "stt_metrics"))
    records = _by_request_id(traced_run.records(conversation["job_id"], "stt_request"))
    assert expected and records.keys() == expected.keys()
    for request_id, metrics in expected.items():
        assert records[request_id]["audio_duration"] == metrics["audio_duration"]
        assert records[request_id]["streamed"] is True


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_eou_record_per_livekit_eou_metrics(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    expected = _metrics(conversation, "eou_metrics")
    records = traced_run.records(conversation["job_id"], "eou")
    assert len(records) == len(expected) == len([t for t in conversation["history"] if t["role"] == "user"])
    for record, metrics in zip(records, expected):
        for field in ("end_of_utterance_delay", "transcription_delay", "on_user_turn_completed_delay"):
            assert record[field] == metrics[field], field
        assert (record["model"], record["provider"]) == _model(metrics)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_turn_records_follow_session_history(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    records = traced_run.records(conversation["job_id"], "turn")
    assert [r["role"] for r in records] == [t["role"] for t in conversation["history"]]
    for record, turn in zip(records, conversation["history"]):
        measured = {k: v for k, v in turn["metrics"].items() if isinstance(v, float) and not k.endswith("_at")}
        if record["role"] == "user":
            names = {"transcription_delay", "end_of_turn_delay", "on_user_turn_completed_delay"}
        else:
            names = {"e2e_latency", "llm_node_ttft", "tts_node_ttfb", "playback_latency"}
        assert {k: record[k] for k in names if k in record} == {k: v for k, v in measured.items() if k in names}
        if HAS_MESSAGE_METRICS and record["role"] == "assistant":
            llm_metadata = turn["metrics"]["llm_metadata"]
            assert (record["llm_model"], record["llm_provider"]) == (
                llm_metadata["model_name"],
                llm_metadata["model_provider"],
            )


def test_turn_latencies_present_from_1_3(traced_run: Run) -> None:
    """ChatMessage.metrics (1.3+) gives a measured end-to-end latency for every answered user turn."""
    answers = [
        r for r in traced_run.records(traced_run.conversation("basic")["job_id"], "turn") if r["role"] == "assistant"
    ]
    with_e2e = [r for r in answers if "e2e_latency" in r]
    if HAS_MESSAGE_METRICS:
        assert len(with_e2e) == len(answers) - 1  # every answer but the greeting
        assert all(r["e2e_latency"] > 0 for r in with_e2e)
    else:
        assert with_e2e == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conversation_record_per_close_event(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    (record,) = traced_run.records(conversation["job_id"], "conversation")
    roles = [t["role"] for t in conversation["history"]]
    assert record["user_turns"] == roles.count("user")
    assert record["agent_turns"] == roles.count("assistant")
    assert record["close_reason"] == conversation["close_reason"]
    errors: dict[str, int] = {}
    for error in conversation["errors"]:
        errors[ERROR_KINDS[error["type"]]] = errors.get(ERROR_KINDS[error["type"]], 0) + 1
    assert record["errors"] == errors
    assert record.get("usage") == conversation["usage"]
    assert record["trace_id"] == conversation["trace_id"]
    assert (record["language"], record["sdk_version"]) == ("python", SDK_VERSION)
    # duration runs from instrument() to the close event, on the clock of the record timestamps
    closed_at = datetime.fromisoformat(record["timestamp"]).timestamp()
    assert record["duration"] > 0
    assert record["started_at"] + record["duration"] == pytest.approx(closed_at, abs=0.25)
    assert traced_run.records(conversation["job_id"])[-1] is record, "nothing after the conversation record"


def test_scenarios_cover_close_reasons_and_turn_counts(traced_run: Run) -> None:
    """The scenarios exercise what the check must tell apart (guards against a vacuous run)."""
    reasons = {c["scenario"]: c["close_reason"] for c in traced_run.conversations}
    assert reasons == {"basic": "user_initiated", "errors": "error", "text": "user_initiated", "short": "user_initiated"}
    user_turns = {
        r["job_id"]: r["user_turns"] for r in traced_run.records(event="conversation")
    }
    assert sorted(user_turns.values()) == [0, 1, 2, 3]


def test_error_record_per_livekit_error_event(traced_run: Run) -> None:
    conversation = traced_run.conversation("errors")
    records = traced_run.records(conversation["job_id"], "error")
    assert [(r["error_kind"], r["recoverable"]) for r in records] == [
        (ERROR_KINDS[e["type"]], e["recoverable"]) for e in conversation["errors"]
    ]
    assert [r["recoverable"] for r in records] == [True, True, True, False]
    assert [r["error_type"] for r in records] == ["APIStatusError"] + ["APIConnectionError"] * 3
    assert {(r["model"], r["provider"], r["label"]) for r in records} == {
        ("scripted-llm-1", "scripted", "scripted.ScriptedLLM")
    }
    for record in records:  # the exception's message never reaches a record
        assert "Connection error" not in json.dumps(record) and "Rate limit" not in json.dumps(record)


def test_handoff_follows_the_new_agents_llm(traced_run: Run) -> None:
    """update_agent() swaps the LLM; requests of both models are recorded, each once."""
    conversation = traced_run.conversation("basic")
    models = [r["model"] for r in traced_run.records(conversation["job_id"], "llm_request")]
    assert models == [_model(m)[0] for m in _metrics(conversation, "llm_metrics")]
    assert models[:2] == ["scripted-llm-1"] * 2 and set(models[2:]) == {"scripted-llm-2"}


def test_session_start_is_the_first_line_of_each_job(traced_run: Run) -> None:
    for conversation in traced_run.conversations:
        first = next(line for line in traced_run.lines if line.get("job_id") == conversation["job_id"])
        assert first["livekit.event"] == "session_start"
        assert first["plugin_version"] and first["language"] == "python"
        assert first["sdk_version"] == SDK_VERSION


def test_every_record_has_the_schema_envelope(traced_run: Run) -> None:
    records = traced_run.records()
    assert len(records) > 50
    for record in records:
        event = record["livekit.event"]
        assert record["message"] == f"livekit.datadog {event}"
        assert record["level"] == "INFO"
        assert record["livekit.schema"] == 1
        assert record["service"] == "support-bot"
        assert None not in record.values()


def test_records_survive_production_log_levels(traced_run: Run) -> None:
    """Under LiveKit's setup_logging, `livekit.*` INFO lines are dropped, ours are kept."""
    levels = {(line["name"], line["level"]) for line in traced_run.lines}
    assert ("livekit.agents", "INFO") not in levels
    assert ("livekit.agents", "WARNING") in levels  # the same log does carry LiveKit's warnings
    assert (COMPANION_LOGGER, "INFO") in levels


def test_no_deprecation_warning_and_no_internal_failure(traced_run: Run) -> None:
    assert "deprecated" not in traced_run.raw
    assert not [line for line in traced_run.lines if line["name"] == COMPANION_LOGGER and line["level"] != "INFO"]


def test_no_text_or_pii_unless_opted_in(traced_run: Run) -> None:
    for conversation in traced_run.conversations:
        records = traced_run.records(conversation["job_id"])
        assert not [key for record in records for key in record if key.startswith("lk.pii")]
        if conversation["include_text"]:
            continue
        dumped = json.dumps(records)
        assert '"text"' not in dumped
        for utterance in conversation["texts"]:
            assert utterance not in dumped
        assert "help with that" not in dumped  # the agent's scripted answer


def test_text_when_opted_in(traced_run: Run) -> None:
    conversation = traced_run.conversation("text")
    turns = traced_run.records(conversation["job_id"], "turn")
    assert [(t["role"], t.get("text")) for t in turns] == [
        ("assistant", "Sure, I can help with that. Anything else?"),
        ("user", "My card number is secret"),
        ("assistant", "Sure, I can help with that. Anything else?"),
    ]
    assert all("text" not in r for r in traced_run.records(conversation["job_id"]) if r["livekit.event"] != "turn")


def test_trace_id_is_the_trace_of_the_sessions_spans(traced_run: Run) -> None:
    span_traces = {span["trace_id"] for span in traced_run.truth["spans"] if span["name"] == "agent_session"}
    records = traced_run.records(event="conversation")
    assert {r["trace_id"] for r in records} == span_traces
    assert len(span_traces) == len(records) == len(traced_run.conversations)


def test_no_trace_id_without_tracing(untraced_run: Run) -> None:
    (record,) = untraced_run.records(event="conversation")
    assert "trace_id" not in record
    assert record["close_reason"] == "user_initiated"


@pytest.mark.skipif(not HAS_SESSION_USAGE, reason="session.usage exists from livekit-agents 1.5")
def test_usage_is_livekits_per_model_usage(traced_run: Run) -> None:
    conversation = traced_run.conversation("basic")
    (record,) = traced_run.records(conversation["job_id"], "conversation")
    llm_usage = {u["model"]: u for u in record["usage"] if u["type"] == "llm_usage"}
    for model in ("scripted-llm-1", "scripted-llm-2"):
        requests = [m for m in _metrics(conversation, "llm_metrics") if _model(m)[0] == model]
        assert llm_usage[model]["input_tokens"] == sum(m["prompt_tokens"] for m in requests)
        assert llm_usage[model]["output_tokens"] == sum(m["completion_tokens"] for m in requests)
    (tts_usage,) = [u for u in record["usage"] if u["type"] == "tts_usage"]
    assert tts_usage["characters_count"] == sum(m["characters_count"] for m in _metrics(conversation, "tts_metrics"))
