"""The companion's records of real offline AgentSessions, checked against LiveKit's own numbers.

Expected values come from LiveKit: its metrics, error and close events, `session.history` and
`session.usage` (recorded by the generator's `LiveKitTotals` next to the log), and the OTel spans;
never from the records.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import COMPANION_LOGGER, Run

from livekit.agents import AgentSession, llm
from livekit.agents import __version__ as SDK_VERSION
from livekit.plugins.datadog import instrumentation

# The contract with the check (docs/companion-records.md), read by the tests only
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "companion-records.schema.json").read_text())

HAS_MESSAGE_METRICS = "metrics" in llm.ChatMessage.model_fields  # livekit-agents 1.3+
HAS_SESSION_USAGE = hasattr(AgentSession, "usage")  # 1.5+

SCENARIOS = ["basic", "rate_limited", "text", "outage", "tts_down", "silent", "llm_fallback", "tts_fallback"]
ERROR_KINDS = {"llm_error": "llm", "stt_error": "stt", "tts_error": "tts"}
USER_DELAYS = {"transcription_delay", "end_of_turn_delay", "on_user_turn_completed_delay"}
AGENT_LATENCIES = {"e2e_latency", "llm_node_ttft", "tts_node_ttfb", "playback_latency"}


def _metrics(conversation: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in conversation["livekit"]["metrics_events"] if m["type"] == kind]


def _messages(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return conversation["livekit"]["messages"]


def _by_request_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keyed = {item["request_id"]: item for item in items}
    assert len(keyed) == len(items), "request ids are unique per request"
    return keyed


def _records_with_livekit_metrics(
    run: Run, scenario: str, metrics_type: str, event: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(record, LiveKit's metrics) pairs by request id: exactly one record per LiveKit request."""
    conversation = run.conversation(scenario)
    expected = _by_request_id(_metrics(conversation, metrics_type))
    records = _by_request_id(run.records(conversation["job_id"], event))
    assert expected and records.keys() == expected.keys()
    return [(records[request_id], metrics) for request_id, metrics in expected.items()]


def _model(metrics: dict[str, Any]) -> tuple[str | None, str | None]:
    metadata = metrics.get("metadata") or {}
    return metadata.get("model_name"), metadata.get("model_provider")


def _set_fields(usage: dict[str, Any]) -> dict[str, Any]:
    """A usage entry without its zero fields (the record drops defaults, as LiveKit's report does)."""
    return {key: value for key, value in usage.items() if value not in (0, 0.0, "", None)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_llm_request_per_livekit_llm_metrics(traced_run: Run, scenario: str) -> None:
    for record, metrics in _records_with_livekit_metrics(traced_run, scenario, "llm_metrics", "llm_request"):
        assert (record["model"], record["provider"]) == _model(metrics)
        for field in ("duration", "prompt_tokens", "prompt_cached_tokens", "completion_tokens", "total_tokens"):
            assert record[field] == metrics[field], field
        for field in ("cache_creation_tokens", "reasoning_tokens"):  # later 1.x releases only
            assert record.get(field) == metrics.get(field), field
        assert record.get("ttft") == (metrics["ttft"] if metrics["ttft"] >= 0 else None)
        assert record["speech_id"] == metrics["speech_id"] and record["speech_id"].startswith("speech_")
        assert record["cancelled"] is metrics["cancelled"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tts_request_per_livekit_tts_metrics(traced_run: Run, scenario: str) -> None:
    for record, metrics in _records_with_livekit_metrics(traced_run, scenario, "tts_metrics", "tts_request"):
        assert (record["model"], record["provider"]) == _model(metrics)
        for field in ("characters_count", "audio_duration", "ttfb", "duration", "speech_id", "streamed"):
            assert record[field] == metrics[field], field


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "silent"])
def test_stt_request_per_livekit_stt_metrics(traced_run: Run, scenario: str) -> None:
    for record, metrics in _records_with_livekit_metrics(traced_run, scenario, "stt_metrics", "stt_request"):
        assert (record["model"], record["provider"]) == _model(metrics)
        assert record["audio_duration"] == metrics["audio_duration"]
        assert record.get("input_tokens") == metrics.get("input_tokens")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_eou_record_per_livekit_eou_metrics(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    expected = _metrics(conversation, "eou_metrics")
    records = traced_run.records(conversation["job_id"], "eou")
    assert len(records) == len(expected) == [m["role"] for m in _messages(conversation)].count("user")
    for record, metrics in zip(records, expected):
        for field in ("end_of_utterance_delay", "transcription_delay", "on_user_turn_completed_delay"):
            assert record[field] == metrics[field], field
        assert (record["model"], record["provider"]) == _model(metrics)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_turn_records_follow_session_history(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    records = traced_run.records(conversation["job_id"], "turn")
    messages = _messages(conversation)
    assert [(r["role"], r["item_id"], r["interrupted"]) for r in records] == [
        (m["role"], m["id"], m["interrupted"]) for m in messages
    ]
    for record, message in zip(records, messages):
        names = USER_DELAYS if record["role"] == "user" else AGENT_LATENCIES
        assert {k: record[k] for k in names if k in record} == {
            k: v for k, v in message["metrics"].items() if k in names
        }
        if HAS_MESSAGE_METRICS and record["role"] == "assistant":
            llm_metadata = message["metrics"]["llm_metadata"]
            assert (record["llm_model"], record["llm_provider"]) == (
                llm_metadata["model_name"],
                llm_metadata["model_provider"],
            )


def test_measured_turn_latency_from_1_3(traced_run: Run) -> None:
    """ChatMessage.metrics (1.3+) gives a measured end-to-end latency for every answered user turn."""
    answers = [
        r for r in traced_run.records(traced_run.conversation("basic")["job_id"], "turn") if r["role"] == "assistant"
    ]
    with_e2e = [r for r in answers if "e2e_latency" in r]
    if HAS_MESSAGE_METRICS:
        assert len(with_e2e) == len(answers) - 1 > 0  # every answer but the greeting
        assert all(r["e2e_latency"] > 0 for r in with_e2e)
    else:
        assert with_e2e == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conversation_record_per_close_event(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    livekit = conversation["livekit"]
    (record,) = traced_run.records(conversation["job_id"], "conversation")
    roles = [m["role"] for m in _messages(conversation)]
    assert (record["user_turns"], record["agent_turns"]) == (roles.count("user"), roles.count("assistant"))
    assert record["close_reason"] == livekit["close"]["reason"]
    failed = [e["error"]["type"] for e in livekit["error_events"]] + [f["type"] for f in livekit["fallback_instance_errors"]]
    assert record["errors"] == dict(Counter(ERROR_KINDS[kind] for kind in failed))
    if HAS_SESSION_USAGE:
        assert [_set_fields(u) for u in record["usage"]] == [_set_fields(u) for u in livekit["model_usage"]]
    else:
        assert "usage" not in record
    assert record["trace_id"] == conversation["trace_id"]
    assert (record["language"], record["sdk_version"]) == ("python", SDK_VERSION)
    # duration runs from instrument() to the close event, on the clock of the record timestamps
    closed_at = datetime.fromisoformat(record["timestamp"]).timestamp()
    assert record["duration"] > 0
    assert record["started_at"] + record["duration"] == pytest.approx(closed_at, abs=0.25)
    assert record["started_at"] <= livekit["started_at"]  # instrument() comes first
    assert traced_run.records(conversation["job_id"])[-1] is record, "nothing after the conversation record"


def test_scenarios_are_not_vacuous(traced_run: Run) -> None:
    """The run exercises what the check must tell apart: close reasons, turn counts, failures."""
    reasons = {c["scenario"]: c["livekit"]["close"]["reason"] for c in traced_run.conversations}
    assert reasons["outage"] == "error" and reasons["basic"] == "user_initiated"
    turns = [r["user_turns"] for r in traced_run.records(event="conversation")]
    assert 0 in turns and max(turns) >= 3
    kinds = {(r["error_kind"], r["recoverable"]) for r in traced_run.records(event="error")}
    assert kinds == {("llm", True), ("llm", False), ("tts", True), ("tts", False)}


@pytest.mark.parametrize("scenario", ["rate_limited", "outage", "tts_down"])
def test_error_record_per_livekit_error_event(traced_run: Run, scenario: str) -> None:
    conversation = traced_run.conversation(scenario)
    events = conversation["livekit"]["error_events"]
    records = traced_run.records(conversation["job_id"], "error")
    assert events and [(r["error_kind"], r["recoverable"], r["label"], r["model"], r["provider"]) for r in records] == [
        (
            ERROR_KINDS[e["error"]["type"]],
            e["error"]["recoverable"],
            e["error"]["label"],
            e["source"]["model"],
            e["source"]["provider"],
        )
        for e in events
    ]
    assert {r["error_type"] for r in records} <= {"APIStatusError", "APIConnectionError"}
    assert not conversation["livekit"]["fallback_instance_errors"]
    dumped = json.dumps(records)  # the exception's message never reaches a record
    assert "Rate limit" not in dumped and "Connection error" not in dumped and "Unavailable" not in dumped


@pytest.mark.parametrize("scenario", ["llm_fallback", "tts_fallback"])
def test_error_record_per_failed_fallback_instance(traced_run: Run, scenario: str) -> None:
    """The instances behind a FallbackAdapter report their failures to themselves only, never to
    the session: each one is a recoverable error of the instance that failed."""
    conversation = traced_run.conversation(scenario)
    failures = conversation["livekit"]["fallback_instance_errors"]
    records = traced_run.records(conversation["job_id"], "error")
    assert failures and not conversation["livekit"]["error_events"]
    assert [(r["error_kind"], r["recoverable"], r["label"], r["model"], r["provider"]) for r in records] == [
        (ERROR_KINDS[f["type"]], True, f["label"], f["model"], f["provider"]) for f in failures
    ]
    (record,) = traced_run.records(conversation["job_id"], "conversation")
    assert record["errors"] == dict(Counter(ERROR_KINDS[f["type"]] for f in failures))


def test_handoff_follows_the_new_agents_llm(traced_run: Run) -> None:
    """update_agent() swaps the LLM; the requests of both models are recorded, each once."""
    conversation = traced_run.conversation("basic")
    models = [r["model"] for r in traced_run.records(conversation["job_id"], "llm_request")]
    assert models == [_model(m)[0] for m in _metrics(conversation, "llm_metrics")]
    assert len(set(models)) == 2 and models[:2] == [models[0]] * 2 and models[2] != models[0]


def test_session_start_is_the_first_line_of_each_job(traced_run: Run) -> None:
    for conversation in traced_run.conversations:
        first = next(line for line in traced_run.lines if line.get("job_id") == conversation["job_id"])
        assert first["livekit.event"] == "session_start"
        assert (first["sdk_version"], first["language"]) == (SDK_VERSION, "python")
        assert first["plugin_version"]


def test_every_record_has_the_schema_envelope(traced_run: Run) -> None:
    records = traced_run.records()
    assert len(records) > 100
    for record in records:
        event = record["livekit.event"]
        assert record["message"] == f"livekit.datadog {event}"
        assert record["level"] == "INFO"
        assert record["livekit.schema"] == instrumentation.SCHEMA_VERSION
        assert record["service"] == "support-bot"
        assert None not in record.values()


def test_the_schema_version_is_the_contracts() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert instrumentation.SCHEMA_VERSION == SCHEMA["properties"]["livekit.schema"]["const"]


@pytest.mark.parametrize("run", ["traced_run", "untraced_run"])
def test_every_line_of_the_companion_follows_the_schema(request: pytest.FixtureRequest, run: str) -> None:
    """Every line the companion's logger wrote, whatever its event, against docs/companion-records.schema.json."""
    lines = [line for line in request.getfixturevalue(run).lines if line.get("name") == COMPANION_LOGGER]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for line in lines:
        errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(line)]
        assert not errors, (line, errors)
    assert lines


def test_the_sessions_write_every_event_of_a_voice_pipeline(traced_run: Run) -> None:
    """Not vacuous: all but the realtime model's and the interruption detector's events are validated."""
    events = {record["livekit.event"] for record in traced_run.records()}
    # tool calls: test_tools_outcome_traces.py; false interruptions need VAD-based interruption
    assert events == set(SCHEMA["$defs"]) - {"realtime_request", "interruption", "tool_call", "false_interruption"}


def test_records_survive_production_log_levels(traced_run: Run) -> None:
    """Under LiveKit's setup_logging (INFO, `livekit` forced to WARNING, `livekit.agents` at the
    app's level) our INFO records are kept, next to LiveKit's own lines, and nothing below INFO."""
    levels = {(line["name"], line["level"]) for line in traced_run.lines}
    assert ("livekit.agents", "WARNING") in levels  # the same log does carry LiveKit's warnings
    assert (COMPANION_LOGGER, "INFO") in levels
    assert {level for _, level in levels} <= {"INFO", "WARNING", "ERROR"}


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
        for text in conversation["utterances"] + conversation["replies"]:
            assert text not in dumped


def test_text_when_opted_in(traced_run: Run) -> None:
    conversation = traced_run.conversation("text")
    turns = traced_run.records(conversation["job_id"], "turn")
    spoken = iter(conversation["utterances"])
    answers = iter(conversation["replies"])
    assert len(turns) > 2
    for turn in turns:
        assert turn["text"] == (next(spoken) if turn["role"] == "user" else next(answers))
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
def test_usage_sums_livekits_requests_per_model(traced_run: Run) -> None:
    conversation = traced_run.conversation("basic")
    (record,) = traced_run.records(conversation["job_id"], "conversation")
    llm_usage = {u["model"]: u for u in record["usage"] if u["type"] == "llm_usage"}
    assert len(llm_usage) == 2  # both agents' models
    for model, usage in llm_usage.items():
        requests = [m for m in _metrics(conversation, "llm_metrics") if _model(m)[0] == model]
        assert usage["input_tokens"] == sum(m["prompt_tokens"] for m in requests)
        assert usage["output_tokens"] == sum(m["completion_tokens"] for m in requests)
    (tts_usage,) = [u for u in record["usage"] if u["type"] == "tts_usage"]
    assert tts_usage["characters_count"] == sum(m["characters_count"] for m in _metrics(conversation, "tts_metrics"))
