# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The caller's side of one conversation: speak each planned user turn into the scripted
microphone once the agent has finished answering the previous one."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents import AgentSession
from livekit.agents.voice.events import AgentStateChangedEvent

from lk_producers.scripted_io import ScriptedMic

# Upper bound for one agent answer, retries and backoff included, in unscaled seconds; a
# guard against a hung plan, never reached by a healthy one.
REPLY_TIMEOUT_S = 60.0
MIN_REPLY_TIMEOUT_S = 20.0  # wall seconds: a loaded CI machine may run far behind the time scale


class AgentStates:
    """Counts the agent's returns to `listening`, so the caller can wait for the end of a reply."""

    def __init__(self, session: AgentSession) -> None:
        self.state = 'initializing'
        self.returns_to_listening = 0
        self.speaking_starts = 0
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        session.on('agent_state_changed', self._on_state)
        session.on('close', lambda _ev: self._mark_closed())

    def _on_state(self, ev: AgentStateChangedEvent) -> None:
        self.state = ev.new_state
        if ev.new_state == 'listening' and ev.old_state in ('thinking', 'speaking'):
            self.returns_to_listening += 1
        if ev.new_state == 'speaking':
            self.speaking_starts += 1
        self._changed.set()

    def _mark_closed(self) -> None:
        self.closed.set()
        self._changed.set()

    async def wait_for(self, condition: Any, timeout: float) -> bool:
        """Wait until `condition()` holds or the session closes; False on close or timeout."""

        async def _wait() -> None:
            while not condition() and not self.closed.is_set():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            return False
        return condition() and not self.closed.is_set()


async def run_caller(session: AgentSession, mic: ScriptedMic, plan: dict[str, Any], states: AgentStates) -> str:
    """Play the caller's part; returns how the call ended from the caller's side."""
    scale = plan['time_scale']
    timeout = max(REPLY_TIMEOUT_S * scale, MIN_REPLY_TIMEOUT_S)
    # the greeting: the agent speaks first (before 1.2, start() itself moves the agent from
    # thinking to listening, so wait for speech that ended)
    if not await states.wait_for(lambda: states.speaking_starts >= 1 and states.state == 'listening', timeout):
        return 'closed' if states.closed.is_set() else 'timeout'
    for turn, spoken in enumerate(plan['turns']):
        await asyncio.sleep(spoken['pause_s'] * scale)
        if states.closed.is_set():
            return 'closed'
        heard = states.returns_to_listening
        speaking = states.speaking_starts
        await mic.speak(turn, spoken['speech_s'])
        if plan['hangup_during_reply'] == turn + 1:
            # hang up once the agent has started to answer
            await states.wait_for(lambda speaking=speaking: states.speaking_starts > speaking, timeout)
            await asyncio.sleep(0.3 * scale)
            return 'hangup'
        if not await states.wait_for(lambda heard=heard: states.returns_to_listening > heard, timeout):
            return 'closed' if states.closed.is_set() else 'timeout'
    await asyncio.sleep(0.5 * scale)
    return 'done'
