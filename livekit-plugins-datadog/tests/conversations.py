"""Runs real AgentSessions offline with the companion and records LiveKit's own numbers.

As a script it behaves like a production worker: LiveKit's `setup_logging` at INFO in JSON, the
companion imported at module level on the main thread (as an agent file does), job fields on every
line of a job. It writes `agent.log` (the JSON log) and `truth.json` (what LiveKit itself reported,
per conversation) into `--out`:

    python conversations.py --out DIR [--trace] [--log-metrics] [--conversations basic,errors,...]

The job fields come from a logging filter here; in production the worker adds them when it
re-emits a job process's records.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, APIConnectOptions, metrics
from livekit.agents.voice.agent_session import SessionConnectOptions

from livekit.plugins import datadog

from scripted import (
    ScriptedLLM,
    ScriptedMic,
    ScriptedSpeaker,
    ScriptedSTT,
    ScriptedTTS,
    connection_failure,
    retryable_failure,
)

_job: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("job", default=None)

# What each conversation does. `turns`: user utterances; `handoff_after`: switch to a second agent
# with its own LLM after that many turns; `llm_failures`: {turn: [failure, ...]} injected before
# that turn (0 = the greeting); `include_text`: the companion's opt-in.
SCENARIOS: dict[str, dict[str, Any]] = {
    "basic": {"turns": ["Hi there", "Can you check my data plan?", "Thanks, that is all"], "handoff_after": 1},
    "errors": {
        "turns": ["Hello", "What is my balance?", "Are you there?"],
        "llm_failures": {1: [retryable_failure()], 2: [connection_failure()] * 3},
    },
    "text": {"turns": ["My card number is secret"], "include_text": True},
    "short": {"turns": []},
}


class JobFields(logging.Filter):
    """Adds job_id/room/room_id to records emitted inside a conversation's tasks."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _job.get()
        if fields:
            for key, value in fields.items():
                setattr(record, key, value)
        return True


class Greeter(Agent):
    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the user.")


def _new_session(stt: ScriptedSTT, llm: ScriptedLLM, tts: ScriptedTTS) -> AgentSession:
    retries = APIConnectOptions(max_retry=2, retry_interval=0.05, timeout=5.0)
    options: dict[str, Any] = {
        "stt": stt,
        "llm": llm,
        "tts": tts,
        "vad": None,
        "conn_options": SessionConnectOptions(
            llm_conn_options=retries, tts_conn_options=retries, max_unrecoverable_errors=0
        ),
    }
    if "turn_handling" in inspect.signature(AgentSession.__init__).parameters:  # 1.4+
        options["turn_handling"] = {"turn_detection": "stt", "endpointing": {"min_delay": 0.05, "max_delay": 1.0}}
    else:
        options.update(turn_detection="stt", min_endpointing_delay=0.05, max_endpointing_delay=1.0)
    return AgentSession(**options)


class Truth:
    """LiveKit's own view of one conversation, from its events and objects."""

    def __init__(self, session: AgentSession, *, log_metrics: bool) -> None:
        self.metrics: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.close_reason: str | None = None
        self.agent_messages = asyncio.Event()
        # The session's metrics event is LiveKit's complete per-request record. Subscribed through
        # the base emitter so that the test's own listener adds no deprecation warning (1.8+).
        rtc.EventEmitter.on(session, "metrics_collected", self._on_metrics)
        session.on("error", self._on_error)
        session.on("close", self._on_close)
        session.on("conversation_item_added", self._on_item)
        if log_metrics:
            # what LiveKit's examples do: a stock `* metrics` line per request (and, on 1.8+, the
            # deprecation warning that this subscription causes)
            session.on("metrics_collected", lambda ev: metrics.log_metrics(ev.metrics))

    def _on_metrics(self, event: Any) -> None:
        self.metrics.append(event.metrics.model_dump(mode="json"))

    def _on_error(self, event: Any) -> None:
        self.errors.append({"type": event.error.type, "recoverable": event.error.recoverable})

    def _on_close(self, event: Any) -> None:
        self.close_reason = event.reason.value

    def _on_item(self, event: Any) -> None:
        if getattr(event.item, "role", None) == "assistant":
            self.agent_messages.set()


async def _wait_for_reply(truth: Truth, errors_before: int) -> None:
    """Until the agent answered, or the turn ended in an unrecoverable error."""
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        if truth.agent_messages.is_set():
            truth.agent_messages.clear()
            return
        if truth.close_reason or any(not e["recoverable"] for e in truth.errors[errors_before:]):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the agent did not answer")


async def run_conversation(
    name: str, scenario: dict[str, Any], *, index: int, log_metrics: bool = False, service: str = "support-bot"
) -> dict[str, Any]:
    job = {"job_id": f"AJ_test{index:04d}{name}", "room": f"call-{name}", "room_id": f"RM_test{index:04d}"}
    _job.set(job)
    stt, llm, tts = ScriptedSTT(), ScriptedLLM(), ScriptedTTS()
    session = _new_session(stt, llm, tts)
    datadog.instrument(session, service=service, include_text=scenario.get("include_text", False))
    truth = Truth(session, log_metrics=log_metrics)
    failures = scenario.get("llm_failures", {})
    llm.failures.extend(failures.get(0, []))
    session.input.audio = ScriptedMic()
    session.output.audio = ScriptedSpeaker()
    await session.start(Greeter(instructions="You are a helpful support agent."))
    await _wait_for_reply(truth, 0)
    second_llm = ScriptedLLM(model="scripted-llm-2", reply="Billing here. Your plan renews monthly.")
    for turn, text in enumerate(scenario["turns"], start=1):
        if truth.close_reason:
            break
        if turn - 1 == scenario.get("handoff_after"):
            session.update_agent(Agent(instructions="You handle billing.", llm=second_llm))
            await asyncio.sleep(0.2)
        llm.failures.extend(failures.get(turn, []))
        errors_before = len(truth.errors)
        stt.say(text)
        await _wait_for_reply(truth, errors_before)
    await asyncio.sleep(0.3)  # let the last playout and metrics settle
    if not truth.close_reason:
        await session.aclose()
    for _ in range(100):
        if truth.close_reason:
            break
        await asyncio.sleep(0.02)
    history = [
        {"role": item.role, "metrics": dict(getattr(item, "metrics", None) or {})}
        for item in session.history.items
        if item.type == "message" and item.role in ("user", "assistant")
    ]
    usage = getattr(session, "usage", None)
    return {
        **job,
        "scenario": name,
        "include_text": scenario.get("include_text", False),
        "texts": scenario["turns"],
        "history": json.loads(json.dumps(history, default=lambda o: getattr(o, "model_dump", lambda: str(o))())),
        "metrics": truth.metrics,
        "errors": truth.errors,
        "close_reason": truth.close_reason,
        "usage": [{"type": u.type, **u.model_dump(exclude_defaults=True)} for u in usage.model_usage]
        if usage is not None
        else None,
    }


def _configure_tracing() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from livekit.agents import telemetry

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.set_tracer_provider(provider)
    return exporter


def _configure_logging(path: Path) -> None:
    """LiveKit's production logging (what `python agent.py start` runs), into a file."""
    from livekit.agents.cli.log import setup_logging

    setup_logging("INFO", devmode=False, console=False)
    (handler,) = logging.getLogger().handlers
    handler.setStream(path.open("w", encoding="utf-8"))
    handler.addFilter(JobFields())


async def _traced_conversation(tracer: Any, name: str, **kwargs: Any) -> dict[str, Any]:
    """In a job, LiveKit's `job_entrypoint` span is the root of the session's trace; this plays it."""
    with tracer.start_as_current_span("job_entrypoint") as span:
        result = await run_conversation(name, SCENARIOS[name], **kwargs)
    result["trace_id"] = format(span.get_span_context().trace_id, "032x")
    return result


async def _main(args: argparse.Namespace) -> None:
    names = args.conversations.split(",")
    exporter = _configure_tracing() if args.trace else None
    if exporter is not None:
        from livekit.agents.telemetry import tracer

        runs = [
            _traced_conversation(tracer, name, index=index, log_metrics=args.log_metrics)
            for index, name in enumerate(names)
        ]
    else:
        runs = [
            run_conversation(name, SCENARIOS[name], index=index, log_metrics=args.log_metrics)
            for index, name in enumerate(names)
        ]
    results = await asyncio.gather(*runs)
    spans = []
    if exporter is not None:
        spans = [
            {"name": span.name, "trace_id": format(span.context.trace_id, "032x")}
            for span in exporter.get_finished_spans()
        ]
    (args.out / "truth.json").write_text(json.dumps({"conversations": results, "spans": spans}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--trace", action="store_true", help="configure an in-memory OTel tracer provider")
    parser.add_argument("--log-metrics", action="store_true", help="also write the stock `* metrics` lines")
    parser.add_argument("--conversations", default=",".join(SCENARIOS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    _configure_logging(args.out / "agent.log")
    asyncio.run(_main(args))
    logging.shutdown()


if __name__ == "__main__":
    sys.exit(main())
