"""Runs real AgentSessions offline with the companion and records LiveKit's own numbers.

The sessions are the generator's (`lk_producers`, livekit/tests/producers, installed in the venv:
conversation plans, scripted STT/LLM/TTS, microphone and speaker, `LiveKitTotals`), run in this process so that a test can vary what the
companion sees: a handoff to a second agent with its own LLM, the transcript opt-in, OTel tracing.

As a script it behaves like a production worker: LiveKit's `setup_logging` at INFO in JSON, the
companion imported at module level on the main thread (as an agent file does), job fields on every
line of a job. It writes `agent.log` (the JSON log) and `truth.json` (LiveKit's totals per
conversation) into `--out`:

    python conversations.py --out DIR [--trace] [--conversations basic,outage,...]

The job fields come from a logging filter here; in production the worker adds them when it
re-emits a job process's records.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession
from lk_producers.conversation import REPLY_TIMEOUT_S, AgentStates
from lk_producers.livekit_totals import LiveKitTotals
from lk_producers.plans import LLMS, build_plan
from lk_producers.scripted_io import ScriptedMic, ScriptedSpeaker
from lk_producers.scripted_providers import TTS_SAMPLE_RATE, ScriptedLLM, scripted_session
from lk_producers.scripted_tools import ToolLog, add_tools, scripted_tools

from livekit.plugins import datadog

SEED = 7
TIME_SCALE = 0.05
_job: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("job", default=None)

# name -> the generator plan it runs (by index: producers/plans.py SCENARIOS) and what this run adds:
# `handoff_after` switches to a second agent with its own LLM after that many user turns;
# `include_text` is the companion's transcript opt-in.
SCENARIOS: dict[str, dict[str, Any]] = {
    "basic": {"plan": 0, "handoff_after": 1},  # normal
    "rate_limited": {"plan": 1},  # one LLM 429, retried
    "text": {"plan": 2, "include_text": True},  # short
    "outage": {"plan": 3},  # LLM down: the session closes with reason `error`
    "tts_down": {"plan": 7},  # TTS retries run out
    "silent": {"plan": 8},  # the caller never speaks
    "llm_fallback": {"plan": 10},  # llm.FallbackAdapter: the primary fails, the backup answers
    "tts_fallback": {"plan": 11},  # tts.FallbackAdapter: the primary fails a sentence, the backup speaks it
    # `--tools` of the generator: four tools (ok, ToolError, another exception, cancelled); the
    # outcome defaults to `abandoned` and the agent's code declares `Resolved` after the last turn
    "tools": {"plan": 0, "tools": True, "outcome": "abandoned", "set_outcome": "Resolved"},
}
OPT_IN = {"tools"}  # scenarios that run only when named


class JobFields(logging.Filter):
    """Adds job_id/room/room_id to records emitted inside a conversation's tasks."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_job.get() or {}).items():
            setattr(record, key, value)
        return True


class SupportAgent(Agent):
    async def on_enter(self) -> None:
        self.session.generate_reply()  # the agent greets first


def _second_llm(plan: dict[str, Any]) -> ScriptedLLM:
    """Another model of the catalog, for the agent the conversation is handed off to."""
    other = next(spec for spec in LLMS if spec["model"] != plan["llm"]["model"])
    return ScriptedLLM({**plan, "llm": other, "llm_faults": {}}, time_scale=plan["time_scale"])


async def _caller(session: AgentSession, mic: ScriptedMic, plan: dict[str, Any], scenario: dict[str, Any]) -> None:
    """The caller's side (as producers/conversation.py), with the scenario's handoff in between."""
    states = AgentStates(session)
    timeout = REPLY_TIMEOUT_S * TIME_SCALE
    if not await states.wait_for(lambda: states.speaking_starts >= 1 and states.state == "listening", timeout):
        return
    for turn, spoken in enumerate(plan["turns"]):
        if turn == scenario.get("handoff_after"):
            session.update_agent(Agent(instructions=plan["instructions"], llm=_second_llm(plan)))
            await asyncio.sleep(0.2)  # let the new agent's activity start before the caller speaks
        heard = states.returns_to_listening
        await mic.speak(turn, spoken["speech_s"])
        if not await states.wait_for(lambda: states.returns_to_listening > heard, timeout):
            return


async def run_conversation(
    name: str, *, index: int, service: str = "support-bot", traces: bool = False, include_text: bool = False
) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    plan = build_plan(scenario["plan"], SEED, TIME_SCALE)
    if scenario.get("tools"):
        plan = add_tools(plan)
    job = {"job_id": f"AJ_test{index:02d}{name}", "room": f"call-{name}", "room_id": f"RM_test{index:02d}"}
    _job.set(job)
    session = scripted_session(plan, TIME_SCALE)
    include_text = include_text or scenario.get("include_text", False)
    started = time.monotonic()
    datadog.instrument(
        session, service=service, include_text=include_text, traces=traces, outcome=scenario.get("outcome")
    )
    totals = LiveKitTotals(session, job, plan, started_at=time.time())
    # LiveKit's complete per-request metrics. Subscribed through the base emitter, so that this
    # test listener adds no deprecation warning of its own (1.8+).
    rtc.EventEmitter.on(session, "metrics_collected", totals.on_metrics_collected)

    mic = ScriptedMic(time_scale=TIME_SCALE)
    session.input.audio = mic
    session.output.audio = ScriptedSpeaker(time_scale=TIME_SCALE, sample_rate=TTS_SAMPLE_RATE)
    tool_log = ToolLog()
    tools = {"tools": scripted_tools(plan, tool_log)} if scenario.get("tools") else {}
    await session.start(SupportAgent(instructions=plan["instructions"], **tools))
    await _caller(session, mic, plan, scenario)
    if scenario.get("set_outcome"):
        datadog.set_outcome(session, scenario["set_outcome"])
    await session.aclose()  # no-op when the session already closed itself
    elapsed = time.monotonic() - started
    with tempfile.TemporaryDirectory() as directory:
        await totals.write(Path(directory))
        livekit = json.loads((Path(directory) / f"{job['job_id']}.json").read_text())
    return {
        "scenario": name,
        **job,
        "include_text": include_text,
        "elapsed": elapsed,
        "tool_runs": tool_log.runs,
        "utterances": [turn["user"] for turn in plan["turns"]],
        "replies": plan["replies"],
        "livekit": livekit,
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


async def _traced_conversation(name: str, **kwargs: Any) -> dict[str, Any]:
    """In a job, LiveKit's `job_entrypoint` span is the root of the session's trace; this plays it."""
    from livekit.agents.telemetry import tracer

    with tracer.start_as_current_span("job_entrypoint") as span:
        result = await run_conversation(name, **kwargs)
    result["trace_id"] = format(span.get_span_context().trace_id, "032x")
    return result


def _configure_logging(path: Path) -> None:
    """LiveKit's production logging (what `python agent.py start` runs), into a file."""
    from livekit.agents.cli.log import setup_logging

    setup_logging("INFO", devmode=False, console=False)
    (handler,) = logging.getLogger().handlers
    handler.setStream(path.open("w", encoding="utf-8"))
    handler.addFilter(JobFields())


async def _main(args: argparse.Namespace) -> None:
    names = args.conversations.split(",")
    exporter = _configure_tracing() if args.trace else None
    run = _traced_conversation if exporter is not None else run_conversation
    options = {"traces": True, "include_text": args.include_text} if args.otlp else {}
    results = await asyncio.gather(*(run(name, index=index, **options) for index, name in enumerate(names)))
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
    parser.add_argument(
        "--otlp",
        action="store_true",
        help="instrument(..., traces=True): LiveKit's spans to OTEL_EXPORTER_OTLP_ENDPOINT (else localhost:4318)",
    )
    parser.add_argument("--include-text", action="store_true", help="instrument(..., include_text=True) everywhere")
    parser.add_argument("--conversations", default=",".join(name for name in SCENARIOS if name not in OPT_IN))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    _configure_logging(args.out / "agent.log")
    asyncio.run(_main(args))
    if args.otlp:  # what a worker's process exit does (the SDK's atexit), bounded by the export timeout
        from livekit.plugins.datadog import traces

        provider = traces.installation().get("provider")
        if provider is not None:
            started = time.monotonic()
            provider.force_flush(3000)
            (args.out / "flush.json").write_text(json.dumps({"seconds": time.monotonic() - started}))
    logging.shutdown()


if __name__ == "__main__":
    sys.exit(main())
