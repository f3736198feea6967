"""instrument() itself: plugin registration, logger level, idempotence, and never hurting the agent."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conversations import run_conversation

from livekit.agents import Plugin, metrics
from livekit.plugins import datadog
from livekit.plugins.datadog import instrumentation
from livekit.plugins.datadog import records


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[ListHandler]:
    """Everything the companion and LiveKit log, with the loggers restored afterwards."""
    handler = ListHandler()
    loggers = [logging.getLogger("livekit.plugins.datadog"), logging.getLogger("livekit.agents")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
    loggers[0].setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)


def _companion(handler: ListHandler, event: str | None = None) -> list[logging.LogRecord]:
    return [
        r
        for r in handler.records
        if r.name == "livekit.plugins.datadog" and (event is None or getattr(r, "livekit.event", None) == event)
    ]


def test_registered_as_a_livekit_plugin() -> None:
    (plugin,) = [p for p in Plugin.registered_plugins if p.package == "livekit.plugins.datadog"]
    assert plugin.logger is datadog.logger
    assert plugin.version == datadog.__version__


def test_import_off_the_main_thread_does_not_raise() -> None:
    """LiveKit refuses plugin registration off the main thread; importing there must still work."""
    code = (
        "import threading\n"
        "errors = []\n"
        "def load():\n"
        "    try:\n"
        "        from livekit.plugins import datadog\n"
        "    except Exception as e:\n"
        "        errors.append(e)\n"
        "t = threading.Thread(target=load); t.start(); t.join()\n"
        "from livekit.agents import Plugin\n"
        "assert not errors, errors\n"
        "assert 'livekit.plugins.datadog' not in [p.package for p in Plugin.registered_plugins]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_logger_gets_the_app_level_when_livekit_is_held_at_warning() -> None:
    """A job that imports the companion late inherits `livekit` at WARNING from the worker."""
    root, livekit_logger, ours = logging.getLogger(), logging.getLogger("livekit"), datadog.logger
    saved = (root.level, livekit_logger.level, ours.level)
    try:
        root.setLevel(logging.INFO)
        livekit_logger.setLevel(logging.WARNING)
        ours.setLevel(logging.NOTSET)
        instrumentation._ensure_logger_enabled()
        assert ours.level == logging.INFO
        # an explicit choice of the user is kept
        ours.setLevel(logging.ERROR)
        instrumentation._ensure_logger_enabled()
        assert ours.level == logging.ERROR
    finally:
        root.setLevel(saved[0])
        livekit_logger.setLevel(saved[1])
        ours.setLevel(saved[2])


def test_instrument_twice_writes_one_start_record(captured: ListHandler) -> None:
    from livekit.agents import AgentSession

    async def instrument_twice() -> None:
        session = AgentSession(vad=None)
        first = datadog.instrument(session, service="a")
        assert datadog.instrument(session, service="b") is first

    asyncio.run(instrument_twice())
    (start,) = _companion(captured, "session_start")
    assert start.service == "a"


def test_failing_handler_warns_once_and_the_session_goes_on(
    captured: ListHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr(records, "turn_record", broken)
    result = asyncio.run(run_conversation("text", index=90))

    warnings = [r for r in _companion(captured) if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "_on_conversation_item_added" in warnings[0].getMessage()
    roles = [m["role"] for m in result["livekit"]["messages"]]
    assert roles.count("user") >= 1 and roles.count("assistant") == roles.count("user") + 1  # all answered
    assert result["livekit"]["close"]["reason"] == "user_initiated"
    (conversation,) = _companion(captured, "conversation")
    assert (conversation.user_turns, conversation.agent_turns) == (roles.count("user"), roles.count("assistant"))
    assert not [r for r in captured.records if r.name == "livekit.agents" and r.levelno >= logging.ERROR]


def test_unreadable_usage_costs_the_field_not_the_conversation_record(
    captured: ListHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(records, "usage", broken)
    result = asyncio.run(run_conversation("silent", index=91))

    (conversation,) = _companion(captured, "conversation")
    assert conversation.close_reason == result["livekit"]["close"]["reason"] == "user_initiated"
    assert not hasattr(conversation, "usage")
    assert len([r for r in _companion(captured) if r.levelno >= logging.WARNING]) == 1


def test_metrics_record_of_realtime_model_metrics() -> None:
    """Realtime models cannot run offline; the record is built from LiveKit's own metrics class."""
    realtime = metrics.RealtimeModelMetrics(
        label="rt",
        request_id="resp_1",
        timestamp=0.0,
        duration=1.5,
        ttft=0.4,
        cancelled=False,
        input_tokens=120,
        output_tokens=30,
        total_tokens=150,
        tokens_per_second=20.0,
        input_token_details=metrics.RealtimeModelMetrics.InputTokenDetails(
            audio_tokens=100, text_tokens=20, image_tokens=0, cached_tokens=64, cached_tokens_details=None
        ),
        output_token_details=metrics.RealtimeModelMetrics.OutputTokenDetails(
            text_tokens=10, audio_tokens=20, image_tokens=0
        ),
    )
    event, fields = records.metrics_record(realtime)
    assert event == "realtime_request"
    assert fields == {
        "duration": 1.5,
        "ttft": 0.4,
        "input_tokens": 120,
        "input_cached_tokens": 64,
        "output_tokens": 30,
        "total_tokens": 150,
        "request_id": "resp_1",
        "cancelled": False,
    }
    realtime.ttft = -1
    assert "ttft" not in records.metrics_record(realtime)[1]


def test_metrics_kinds_outside_the_schema_are_skipped() -> None:
    vad = metrics.VADMetrics(label="vad", timestamp=0.0, idle_time=1.0, inference_duration_total=0.1, inference_count=3)
    assert records.metrics_record(vad) is None


def test_false_interruption_record_and_count(captured: ListHandler) -> None:
    """LiveKit's own event class, emitted on a real session (offline sessions without VAD have none)."""
    from livekit.agents import AgentSession
    from livekit.agents.voice.events import AgentFalseInterruptionEvent, CloseEvent

    async def run() -> None:
        session = AgentSession(vad=None)
        datadog.instrument(session, service="a")
        session.emit("agent_false_interruption", AgentFalseInterruptionEvent(resumed=True))
        session.emit("close", CloseEvent(reason="user_initiated"))

    asyncio.run(run())
    (record,) = _companion(captured, "false_interruption")
    assert record.resumed is True
    (conversation,) = _companion(captured, "conversation")
    assert conversation.false_interruptions == 1 and conversation.tool_calls == 0
