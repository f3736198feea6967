"""One `tool_call` record per function tool execution, from LiveKit's own hooks.

- Every speech (`speech_created`) reports the chat items it adds through its item-added callbacks,
  the hook LiveKit's own `RunResult` uses: the `FunctionCall` when the tool starts executing, its
  `FunctionCallOutput` when the call returns (both versions, inside LiveKit's `function_tool` span).
- livekit-agents 1.8+ also reports each call's lifecycle (`tool_execution_updated`:
  `tool_call_started`, then one `tool_call_ended` with status `done` / `error` / `cancelled`), which
  is what the record follows there: a cancelled tool is `cancelled` in LiveKit's own words.
- Before that (1.2 to 1.7) LiveKit catches the cancellation of a tool's task as an exception; the
  task that ran the tool is still marked as being cancelled when its output is added, which is how
  such a call is told from a failed one.

ToolError vs another exception: LiveKit hands a ToolError's message to the LLM and replaces any
other exception by a fixed text; `tool_error` says which (never the text itself).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from . import records

_STATUS_OUTCOME = {"done": "ok", "error": "error", "cancelled": "cancelled"}


class _Call:
    __slots__ = ("call", "output", "speech_id", "started", "cancelled")

    def __init__(self, call: Any, speech_id: str | None, started: float) -> None:
        self.call = call
        self.output: Any = None
        self.speech_id = speech_id
        self.started = started
        self.cancelled = False


class ToolCalls:
    """Follows the tool calls of one session; `write(fields)` gets each finished call's record."""

    def __init__(self, write: Callable[[dict[str, Any]], None], *, include_text: bool, lifecycle_events: bool) -> None:
        self._write = write
        self._include_text = include_text
        # 1.8+: the record waits for LiveKit's `tool_call_ended`, which names a cancellation
        self._lifecycle_events = lifecycle_events
        self._running: dict[str, _Call] = {}
        self.count = 0

    @staticmethod
    def watch(speech_handle: Any, on_item: Callable[[Any, str | None], None]) -> bool:
        """Have `on_item(item, speech_id)` called for each chat item the speech adds."""
        add = getattr(speech_handle, "_add_item_added_callback", None)
        if add is None:  # a later release may rename the hook: no tool records then, nothing fails
            return False
        speech_id = getattr(speech_handle, "id", None)
        add(lambda item: on_item(item, speech_id))
        return True

    def on_item(self, item: Any, speech_id: str | None) -> None:
        kind = getattr(item, "type", None)
        if kind == "function_call":
            self._running.setdefault(item.call_id, _Call(item, speech_id, time.monotonic()))
        elif kind == "function_call_output":
            call = self._running.get(item.call_id)
            if call is None:
                return  # an unknown function or unparsable arguments: no tool ran
            call.output = item
            if self._lifecycle_events:
                return
            task = asyncio.current_task()
            cancelling = getattr(task, "cancelling", None)
            call.cancelled = bool(cancelling and cancelling())
            self._finish(item.call_id, None)

    def on_lifecycle(self, event: Any) -> None:
        update = getattr(event, "update", None)
        kind = getattr(update, "type", None)
        if kind == "tool_call_started":
            call = update.function_call
            entry = self._running.get(call.call_id)
            if entry is None:
                self._running[call.call_id] = _Call(call, None, time.monotonic())
            else:
                entry.started = time.monotonic()  # LiveKit's executor runs it now (inside the span)
        elif kind == "tool_call_ended":
            self._finish(update.call_id, _STATUS_OUTCOME.get(update.status, "error"))

    def _finish(self, call_id: str, outcome: str | None) -> None:
        call = self._running.pop(call_id, None)
        if call is None:
            return
        output = call.output
        if outcome is None:
            if call.cancelled:
                outcome = "cancelled"
            else:
                outcome = "error" if getattr(output, "is_error", False) else "ok"
        self.count += 1
        self._write(
            records.tool_call_record(
                name=call.call.name,
                call_id=call_id,
                duration=time.monotonic() - call.started,
                outcome=outcome,
                tool_error=records.tool_error_kind(output),
                speech_id=call.speech_id,
                call=call.call,
                output=output,
                include_text=self._include_text,
            )
        )

    def close(self) -> None:
        """At session close: calls whose output LiveKit produced but whose end it never reported
        (e.g. a duplicate LiveKit's executor rejected) are recorded from their output."""
        for call_id in [key for key, call in self._running.items() if call.output is not None]:
            self._finish(call_id, None)
        self._running.clear()
