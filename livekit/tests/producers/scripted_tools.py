# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Scripted function tools (`--tools`): real `@function_tool`s that LiveKit executes, each ending
one way: returns, raises `ToolError`, raises another exception, or has its task cancelled while it
runs (what a watchdog or a caller hanging up does to a running tool).

The scripted LLM (scripted_providers.py) calls all of them on the plan's `tool_turns`, in one
response, then answers with text once their outputs are in the chat context. What LiveKit reports
about the executions is recorded by `LiveKitTotals` from its own events; `ToolLog` is only what the
tools themselves saw (how long each ran, whether its task was cancelled).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livekit.agents import ToolError, function_tool

# name -> how the tool ends; the LLM calls them in this order
TOOLS = {
    'lookup_account': 'ok',
    'check_outage': 'tool_error',
    'book_appointment': 'exception',
    'transfer_call': 'cancelled',
}
TOOL_LATENCY_S = 0.6  # before the time scale: how long each tool works


class ToolLog:
    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def begin(self, name: str) -> dict[str, Any]:
        run = {'name': name, 'ending': TOOLS[name], 'started': time.monotonic(), 'cancelled': False}
        self.runs.append(run)
        return run


def scripted_tools(plan: dict[str, Any], log: ToolLog) -> list[Any]:
    """The four tools, their work scaled by the plan's time scale."""
    work = TOOL_LATENCY_S * plan['time_scale']

    async def _work(name: str) -> dict[str, Any]:
        run = log.begin(name)
        try:
            if TOOLS[name] == 'cancelled':
                task = asyncio.current_task()
                assert task is not None
                asyncio.get_running_loop().call_later(work / 2, task.cancel)
                await asyncio.sleep(work * 4)
            else:
                await asyncio.sleep(work)
        except asyncio.CancelledError:
            run['cancelled'] = True
            raise
        finally:
            run['ran_s'] = time.monotonic() - run['started']
        return run

    @function_tool
    async def lookup_account(account_digits: str) -> str:
        """Looks up the caller's account by the last four digits of the account number."""
        await _work('lookup_account')
        return 'account 4821: Plus plan, 3.2 GB left'

    @function_tool
    async def check_outage(postcode: str) -> str:
        """Looks up network outages at a postcode."""
        await _work('check_outage')
        raise ToolError('the outage service does not know this postcode')

    @function_tool
    async def book_appointment(store: str) -> str:
        """Books a store appointment."""
        await _work('book_appointment')
        raise RuntimeError('booking backend returned HTTP 500')

    @function_tool
    async def transfer_call(department: str) -> str:
        """Transfers the call to a human agent."""
        await _work('transfer_call')
        return 'transferred'

    return [lookup_account, check_outage, book_appointment, transfer_call]


TOOL_ARGUMENTS = {
    'lookup_account': '{"account_digits": "4821"}',
    'check_outage': '{"postcode": "90210"}',
    'book_appointment': '{"store": "downtown"}',
    'transfer_call': '{"department": "billing"}',
}


def add_tools(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with tool calls on its first user turn (none for a caller who never speaks)."""
    plan['tool_turns'] = [1] if plan['turns'] else []
    return plan
