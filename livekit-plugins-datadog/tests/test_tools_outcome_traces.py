"""Schema 2 on real sessions: `traces=True` to a real OTLP/HTTP receiver, tool calls, outcome.

The receiver runs in this test and decodes the real protobuf (`ExportTraceServiceRequest`) that
LiveKit's spans arrive in; the sessions run in a fresh interpreter (`conversations.py --otlp`)
under LiveKit's production logging. Expected tool executions come from LiveKit's own events
(`function_tools_executed`, `tool_execution_updated` on 1.8+, the history) and from what the
scripted tools themselves saw; never from the records.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import COMPANION_LOGGER, Run, run_conversations
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from livekit.agents import __version__ as SDK_VERSION
from livekit.plugins.datadog import records, traces
from livekit.plugins.datadog._compat import HAS_TOOL_LIFECYCLE_EVENTS

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "companion-records.schema.json").read_text())
CONVERSATIONS = "tools,basic"
TEXT_KEYS = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}
AGENT_TURN_SPAN = "agent_turn" if HAS_TOOL_LIFECYCLE_EVENTS else "assistant_turn"  # renamed in 1.3


class Receiver:
    """A local OTLP/HTTP trace receiver (what the Datadog Agent's listens on, port 4318)."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.spans: list[dict[str, Any]] = []
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                request = ExportTraceServiceRequest.FromString(body)
                receiver.requests += 1
                for resource_spans in request.resource_spans:
                    resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            receiver.spans.append(
                                {
                                    "path": self.path,
                                    "name": span.name,
                                    "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(),
                                    "duration": (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9,
                                    "attributes": {a.key: _value(a.value) for a in span.attributes},
                                    "events": [
                                        {"name": e.name, "attributes": {a.key: _value(a.value) for a in e.attributes}}
                                        for e in span.events
                                    ],
                                    "resource": resource,
                                }
                            )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DD_"))}
    return env | {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "DD_ENV": "staging", "DD_VERSION": "1.2.3"}


def _run(tmp: Path, endpoint: str, *args: str) -> tuple[Run, float]:
    started = time.monotonic()
    run = run_conversations(tmp, "--otlp", "--conversations", CONVERSATIONS, *args, env=_env(endpoint))
    return run, time.monotonic() - started


@pytest.fixture(scope="module")
def otlp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, Receiver]]:
    receiver = Receiver()
    try:
        run, _ = _run(tmp_path_factory.mktemp("otlp"), receiver.url)
        yield run, receiver
    finally:
        receiver.close()


@pytest.fixture(scope="module")
def otlp_with_text(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, Receiver]]:
    receiver = Receiver()
    try:
        run, _ = _run(tmp_path_factory.mktemp("otlp_text"), receiver.url, "--include-text")
        yield run, receiver
    finally:
        receiver.close()


def _companion_lines(run: Run) -> list[dict[str, Any]]:
    return [line for line in run.lines if line.get("name") == COMPANION_LOGGER]


# -- traces --------------------------------------------------------------------------------------


def test_livekits_spans_arrive_with_the_service_resource(otlp: tuple[Run, Receiver]) -> None:
    _, receiver = otlp
    assert receiver.spans and {s["path"] for s in receiver.spans} == {"/v1/traces"}
    for span in receiver.spans:
        resource = span["resource"]
        assert resource["service.name"] == "support-bot"
        assert (resource["deployment.environment"], resource["service.version"]) == ("staging", "1.2.3")
    names = {s["name"] for s in receiver.spans}
    assert {"agent_session", AGENT_TURN_SPAN, "llm_request", "tts_request", "function_tool"} <= names, names


def test_no_transcript_leaves_the_process(otlp: tuple[Run, Receiver]) -> None:
    run, receiver = otlp
    texts = [t for c in run.conversations for t in c["utterances"] + c["replies"]]
    for span in receiver.spans:
        keys = set(span["attributes"]) | {k for e in span["events"] for k in e["attributes"]}
        assert not [k for k in keys if "pii" in k.split(".") or k in TEXT_KEYS or traces.is_text_attribute(k)], span
        dumped = json.dumps(span)
        assert not [t for t in texts if t in dumped], span["name"]


def test_transcript_attributes_with_include_text(otlp_with_text: tuple[Run, Receiver]) -> None:
    run, receiver = otlp_with_text
    keys = {k for s in receiver.spans for k in s["attributes"]}
    assert [k for k in keys if traces.is_text_attribute(k)], sorted(keys)
    dumped = json.dumps(receiver.spans)
    assert any(reply in dumped for c in run.conversations for reply in c["replies"])


def test_every_conversation_names_a_trace_that_arrived(otlp: tuple[Run, Receiver]) -> None:
    run, receiver = otlp
    sessions = {s["trace_id"] for s in receiver.spans if s["name"] == "agent_session"}
    conversations = run.records(event="conversation")
    assert len(conversations) == len(run.conversations) == len(sessions)
    assert {r["trace_id"] for r in conversations} == sessions


def test_records_carry_spans_that_arrived(otlp: tuple[Run, Receiver]) -> None:
    run, receiver = otlp
    spans = {(s["trace_id"], s["span_id"]) for s in receiver.spans}
    with_span = [r for r in run.records() if "span_id" in r]
    assert len(with_span) > len(run.records()) / 2
    assert not [r for r in with_span if (r["trace_id"], r["span_id"]) not in spans]
    by_id = {s["span_id"]: s for s in receiver.spans}
    # a tool_call is written inside LiveKit's function_tool span
    assert {by_id[r["span_id"]]["name"] for r in run.records(event="tool_call")} == {"function_tool"}


# -- tool calls ------------------------------------------------------------------------------------


def _livekit_tool_outcomes(conversation: dict[str, Any]) -> dict[str, tuple[str, str, bool | None]]:
    """call id -> (tool, outcome, tool_error) as LiveKit reported the executions."""
    reported = conversation["livekit"]["tool_executions"]
    executed = {e["call_id"]: e for e in reported["function_tools_executed"]}
    cancelled_by_task = {run["name"] for run in conversation["tool_runs"] if run["cancelled"]}
    outcomes = {}
    if HAS_TOOL_LIFECYCLE_EVENTS:
        started = {u["function_call"]["call_id"]: u["function_call"]["name"] for u in reported["tool_execution_updated"] if u["type"] == "tool_call_started"}
        for update in reported["tool_execution_updated"]:
            if update["type"] == "tool_call_ended":
                outcome = {"done": "ok", "error": "error", "cancelled": "cancelled"}[update["status"]]
                output = executed[update["call_id"]]
                tool_error = output["output"] != records.INTERNAL_TOOL_ERROR_OUTPUT if outcome == "error" else None
                outcomes[update["call_id"]] = (started[update["call_id"]], outcome, tool_error)
    else:  # 1.2: LiveKit reports a cancelled tool's task as a failed call; the tool saw the cancellation
        for call_id, output in executed.items():
            if output["name"] in cancelled_by_task:
                outcomes[call_id] = (output["name"], "cancelled", None)
            elif output["is_error"]:
                outcomes[call_id] = (output["name"], "error", output["output"] != records.INTERNAL_TOOL_ERROR_OUTPUT)
            else:
                outcomes[call_id] = (output["name"], "ok", None)
    return outcomes


def test_tool_call_per_livekit_tool_execution(otlp: tuple[Run, Receiver]) -> None:
    run, _ = otlp
    conversation = run.conversation("tools")
    expected = _livekit_tool_outcomes(conversation)
    got = {r["call_id"]: (r["tool_name"], r["outcome"], r.get("tool_error")) for r in run.records(conversation["job_id"], "tool_call")}
    assert got == expected
    # every way a tool ends, told apart
    assert sorted(got.values()) == [
        ("book_appointment", "error", False),
        ("check_outage", "error", True),
        ("lookup_account", "ok", None),
        ("transfer_call", "cancelled", None),
    ]
    history = [i for i in conversation["livekit"]["tool_executions"]["history"] if i["type"] == "function_call"]
    assert sorted(i["call_id"] for i in history) == sorted(got)
    (record,) = run.records(conversation["job_id"], "conversation")
    assert record["tool_calls"] == 4
    assert "tool_calls" in run.records(run.conversation("basic")["job_id"], "conversation")[0]


def test_tool_durations_are_within_livekits_spans(otlp: tuple[Run, Receiver]) -> None:
    run, receiver = otlp
    conversation = run.conversation("tools")
    spans = {s["span_id"]: s for s in receiver.spans}
    ran = {r["name"]: r["ran_s"] for r in conversation["tool_runs"]}
    for record in run.records(conversation["job_id"], "tool_call"):
        span = spans[record["span_id"]]
        assert span["attributes"]["lk.function_tool.name"] == record["tool_name"]
        # measured inside the span (1.2 starts the clock when LiveKit adds the call, a task
        # switch before the span opens)
        assert record["duration"] <= span["duration"] + 0.01
        assert record["duration"] >= ran[record["tool_name"]] - 0.002


def test_no_tool_arguments_or_output_unless_opted_in(
    otlp: tuple[Run, Receiver], otlp_with_text: tuple[Run, Receiver]
) -> None:
    plain, _ = otlp
    for record in plain.records(event="tool_call"):
        assert "arguments" not in record and "output" not in record
    assert "4821" not in json.dumps(plain.records(event="tool_call"))
    with_text, _ = otlp_with_text
    by_name = {r["tool_name"]: r for r in with_text.records(event="tool_call")}
    assert json.loads(by_name["lookup_account"]["arguments"]) == {"account_digits": "4821"}
    assert by_name["check_outage"]["output"] == "the outage service does not know this postcode"


# -- outcome, turn-taking, schema ------------------------------------------------------------------


def test_outcome_on_the_conversation_record(otlp: tuple[Run, Receiver]) -> None:
    run, _ = otlp
    (tools,) = run.records(run.conversation("tools")["job_id"], "conversation")
    assert tools["outcome"] == "resolved"  # set_outcome("Resolved") over instrument(outcome="abandoned")
    (basic,) = run.records(run.conversation("basic")["job_id"], "conversation")
    assert "outcome" not in basic


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Resolved", "resolved"), ("  escalated to human ", "escalated_to_human"), ("x" * 33, "other"), ("ünï", "other"), ("", None), (None, None)],
)
def test_outcome_is_bounded(value: Any, expected: str | None) -> None:
    assert records.normalize_outcome(value) == expected


def test_interrupted_turns_count_the_interrupted_assistant_turns(otlp: tuple[Run, Receiver]) -> None:
    run, _ = otlp
    for conversation in run.conversations:
        (record,) = run.records(conversation["job_id"], "conversation")
        interrupted = [m for m in conversation["livekit"]["messages"] if m["role"] == "assistant" and m["interrupted"]]
        assert record["interrupted_turns"] == len(interrupted)
        assert record["false_interruptions"] == 0  # STT turn detection without VAD: LiveKit reports none


def test_every_line_follows_schema_2(otlp: tuple[Run, Receiver], otlp_with_text: tuple[Run, Receiver]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert SCHEMA["properties"]["livekit.schema"]["const"] == 2
    for run, _ in (otlp, otlp_with_text):
        lines = _companion_lines(run)
        assert lines and {line["livekit.schema"] for line in lines} == {2}
        for line in lines:
            errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(line)]
            assert not errors, (line, errors)
        assert {"tool_call", "conversation", "turn", "llm_request"} <= {line["livekit.event"] for line in lines}


# -- a receiver that is down or slow never touches the agent ---------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_dead_or_slow_receiver_never_delays_the_agent(
    otlp: tuple[Run, Receiver], tmp_path_factory: pytest.TempPathFactory
) -> None:
    live, _ = otlp
    slow = Receiver(delay=5.0)
    try:
        runs = {
            "dead": _run(tmp_path_factory.mktemp("dead"), f"http://127.0.0.1:{_closed_port()}")[0],
            "slow": _run(tmp_path_factory.mktemp("slow"), slow.url)[0],
        }
    finally:
        slow.close()
    baseline = {c["scenario"]: c["elapsed"] for c in live.conversations}
    report = {}
    for kind, run in runs.items():
        for conversation in run.conversations:
            elapsed = conversation["elapsed"]
            report[(kind, conversation["scenario"])] = (round(baseline[conversation["scenario"]], 2), round(elapsed, 2))
            assert elapsed <= baseline[conversation["scenario"]] * 1.5 + 1.0, report
            assert conversation["livekit"]["close"]["reason"] == "user_initiated"
        assert [r["user_turns"] for r in run.records(event="conversation")] == [
            r["user_turns"] for r in live.records(event="conversation")
        ]
        # nothing raised into the agent, no companion failure
        assert not [line for line in _companion_lines(run) if line["level"] != "INFO"]
        errors = [line for line in run.lines if line["level"] in ("ERROR", "CRITICAL") and "tool" not in line["message"]]
        # only the OTLP exporter's own report of the failed export, from its thread
        assert {line["name"] for line in errors} <= {"opentelemetry.exporter.otlp.proto.http.trace_exporter"}, errors
    print("session seconds (live, with receiver down/slow):", report)


def test_installed_once_and_the_apps_provider_is_kept() -> None:
    """A provider the app gave LiveKit is used (the exporter is added to it), never replaced."""
    import subprocess
    import sys

    code = """
from opentelemetry.sdk.trace import TracerProvider
from livekit.agents import AgentSession, telemetry
from livekit.plugins import datadog
from livekit.plugins.datadog import traces
app = TracerProvider()
telemetry.set_tracer_provider(app)
datadog.instrument(AgentSession(vad=None), service="a", traces=True)
datadog.instrument(AgentSession(vad=None), service="b", traces=True)
assert telemetry.tracer._tracer_provider is app
state = traces.installation()
assert state["provider"] is app and state["owner"] == "app", state
assert len([p for p in app._active_span_processor._span_processors if p is state["processor"]]) == 1
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=_env("http://127.0.0.1:1"))


def test_endpoint_and_resource_from_the_environment() -> None:
    assert traces.traces_endpoint({}) == "http://localhost:4318/v1/traces"
    assert traces.traces_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:4318/"}) == "http://agent:4318/v1/traces"
    assert (
        traces.traces_endpoint(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x:1/t"}
        )
        == "http://x:1/t"
    )
    assert traces.resource_attributes(None, {"DD_SERVICE": "dd", "OTEL_SERVICE_NAME": "otel"}) == {"service.name": "dd"}
    assert traces.resource_attributes(None, {"OTEL_SERVICE_NAME": "otel", "DD_ENV": "prod"}) == {
        "service.name": "otel",
        "deployment.environment": "prod",
    }
    assert traces.resource_attributes("bot", {"DD_SERVICE": "dd", "DD_VERSION": "7"})["service.name"] == "bot"
    assert SDK_VERSION
