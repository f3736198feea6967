"""The voice agent app that the generator runs as a real LiveKit worker, exactly as production
does: `python -m livekit.agents start scripted_agent.py --url ... --log-level INFO`.

Every job it receives carries its conversation plan in the job metadata. The job runs a real
AgentSession with the scripted STT/LLM/TTS and the scripted caller, logs metrics the way the
LiveKit docs recommend (`metrics.log_metrics` in a `metrics_collected` handler), and at the end
of the job writes LiveKit's own totals for the generator.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livekit.agents import (
    Agent,
    AgentServer,
    AgentSession,
    APIConnectOptions,
    JobContext,
    MetricsCollectedEvent,
    metrics,
)
from livekit.agents.voice.agent_session import SessionConnectOptions

import generator_env
from conversation import AgentStates, run_caller
from livekit_totals import LiveKitTotals
from scripted_io import ScriptedMic, ScriptedSpeaker
from scripted_providers import TTS_SAMPLE_RATE, ScriptedLLM, ScriptedSTT, ScriptedTTS


def _load_instrument() -> Callable[[AgentSession, dict[str, Any]], Any] | None:
    target = os.environ.get(generator_env.INSTRUMENT)
    if not target:
        return None
    module_name, _, func_name = target.partition(":")
    return getattr(importlib.import_module(module_name), func_name)


# The `--instrument MODULE:FUNC` hook (e.g. livekit-plugins-datadog). Imported with the app, as a
# plugin imported at the top of agent.py is: before the worker sets up logging, on the main thread.
instrument = _load_instrument()

server = AgentServer(
    port=0,  # the health server on a free port: several generators may run side by side
    num_idle_processes=int(os.environ.get(generator_env.IDLE_PROCESSES, "2")),
    load_threshold=math.inf,  # take every job the dispatcher offers, however busy the machine
)


class SupportAgent(Agent):
    def __init__(self, plan: dict[str, Any]) -> None:
        super().__init__(instructions=plan["instructions"])

    async def on_enter(self) -> None:
        self.session.generate_reply()  # the agent greets first


def _connect_options(scale: float) -> SessionConnectOptions:
    # LiveKit's defaults (3 retries, 2 s apart), with the interval scaled like every delay
    retries = APIConnectOptions(max_retry=3, retry_interval=round(2.0 * scale, 3), timeout=10.0)
    return SessionConnectOptions(stt_conn_options=retries, llm_conn_options=retries, tts_conn_options=retries)


@server.rtc_session(agent_name=os.environ.get(generator_env.AGENT_NAME, ""))
async def entrypoint(ctx: JobContext) -> None:
    plan = json.loads(ctx.job.metadata)
    scale = plan["time_scale"]
    job_info = {
        "job_id": ctx.job.id,
        "room": ctx.job.room.name,
        "room_id": ctx.job.room.sid,
        "agent_name": ctx.job.agent_name,
        "conversation": plan["index"],
        "pid": os.getpid(),
    }
    session: AgentSession = AgentSession(
        stt=ScriptedSTT(plan, time_scale=scale),
        llm=ScriptedLLM(plan, time_scale=scale),
        tts=ScriptedTTS(plan, time_scale=scale),
        vad=None,
        turn_handling={
            "turn_detection": "stt",
            "endpointing": {"min_delay": round(0.5 * scale, 3), "max_delay": round(3.0 * scale, 3)},
        },
        conn_options=_connect_options(scale),
    )
    if instrument is not None:
        instrument(session, job_info)
    totals = LiveKitTotals(session, job_info, plan)

    @session.on("metrics_collected")
    def _on_metrics_collected(ev: MetricsCollectedEvent) -> None:
        metrics.log_metrics(ev.metrics)
        totals.on_metrics_collected(ev)

    async def _write_totals(_reason: str) -> None:
        await totals.write(Path(os.environ[generator_env.JOBS_DIR]))

    ctx.add_shutdown_callback(_write_totals)

    mic = ScriptedMic(time_scale=scale)
    session.input.audio = mic
    session.output.audio = ScriptedSpeaker(time_scale=scale, sample_rate=TTS_SAMPLE_RATE)
    states = AgentStates(session)
    await session.start(SupportAgent(plan))

    ending = await run_caller(session, mic, plan, states)
    if ending in ("done", "timeout"):
        await session.aclose()  # the agent ends the call after the goodbye
    # a hang-up, or a session that closed itself: the job ends with the call
    ctx.shutdown(reason={"hangup": "caller hung up"}.get(ending, "conversation finished"))
