# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The voice agent app that the generator runs as a real LiveKit worker, exactly as production
does: `python -m livekit.agents start scripted_agent.py --url ... --log-level INFO` (1.8), or
`python scripted_agent.py start ...` through `cli.run_app` on releases before the AgentServer API.

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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livekit.agents import Agent, AgentSession, JobContext, MetricsCollectedEvent, cli, metrics

from lk_producers import generator_env
from lk_producers.compat import AgentServer
from lk_producers.conversation import AgentStates, run_caller
from lk_producers.livekit_totals import LiveKitTotals
from lk_producers.scripted_io import ScriptedMic, ScriptedSpeaker
from lk_producers.scripted_providers import TTS_SAMPLE_RATE, scripted_session


def _load_instrument() -> Callable[[AgentSession, dict[str, Any]], Any] | None:
    target = os.environ.get(generator_env.INSTRUMENT)
    if not target:
        return None
    module_name, _, func_name = target.partition(':')
    return getattr(importlib.import_module(module_name), func_name)


# The `--instrument MODULE:FUNC` hook (e.g. livekit-plugins-datadog). Imported with the app, as a
# plugin imported at the top of agent.py is: before the worker sets up logging, on the main thread.
instrument = _load_instrument()

WORKER_OPTIONS = {
    'port': 0,  # the health server on a free port: several generators may run side by side
    'num_idle_processes': int(os.environ.get(generator_env.IDLE_PROCESSES, '2')),
    'load_threshold': math.inf,  # take every job the dispatcher offers, however busy the machine
}
AGENT_NAME = os.environ.get(generator_env.AGENT_NAME, '')


class SupportAgent(Agent):
    def __init__(self, plan: dict[str, Any]) -> None:
        tools = {}
        if 'tool_turns' in plan:  # `--tools`
            from lk_producers.scripted_tools import ToolLog, scripted_tools

            tools = {'tools': scripted_tools(plan, ToolLog())}
        super().__init__(instructions=plan['instructions'], **tools)

    async def on_enter(self) -> None:
        self.session.generate_reply()  # the agent greets first


async def entrypoint(ctx: JobContext) -> None:
    plan = json.loads(ctx.job.metadata)
    scale = plan['time_scale']
    job_info = {
        'job_id': ctx.job.id,
        'room': ctx.job.room.name,
        'room_id': ctx.job.room.sid,
        'agent_name': ctx.job.agent_name,
        'conversation': plan['index'],
        'pid': os.getpid(),
    }
    session = scripted_session(plan, scale)
    # the conversation starts before instrument(): its first call imports the companion's modules,
    # which on a loaded machine takes long enough to skew a duration compared with the companion's
    started_at = time.time()
    if instrument is not None:
        instrument(session, job_info)
    totals = LiveKitTotals(session, job_info, plan, started_at=started_at)

    @session.on('metrics_collected')
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
    if ending in ('done', 'timeout'):
        await session.aclose()  # the agent ends the call after the goodbye
    # a hang-up, or a session that closed itself: the job ends with the call
    ctx.shutdown(reason={'hangup': 'caller hung up'}.get(ending, 'conversation finished'))


if AgentServer is not None:
    server = AgentServer(**WORKER_OPTIONS)
    server.rtc_session(entrypoint, agent_name=AGENT_NAME)

if __name__ == '__main__':  # releases before `python -m livekit.agents start`
    from livekit.agents import WorkerOptions

    # their CLI warns about a load threshold of 1 or more: just below takes every job but a full CPU
    legacy_options = WORKER_OPTIONS | {'load_threshold': 0.99}
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint, agent_name=AGENT_NAME, **legacy_options))
