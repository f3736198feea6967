# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""LiveKit's own numbers for one job, recorded inside the job process from the session's events,
history and usage, and from the values `metrics.log_metrics` hands to logging. Never from the
log file: tests compare what our parser reads in the log with these."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from livekit.agents import AgentSession, __version__, metrics
from livekit.agents.voice.events import CloseEvent, ErrorEvent, EventTypes, MetricsCollectedEvent

from lk_producers.compat import model_usage

CLOSE_TIMEOUT_S = 10.0
METRICS_KINDS = {
    'llm_metrics': 'llm',
    'tts_metrics': 'tts',
    'stt_metrics': 'stt',
    'eou_metrics': 'eou',
    'realtime_model_metrics': 'realtime',
    'interruption_metrics': 'interruption',
}


class LoggedMetricsCapture(logging.Filter):
    """Keeps the `extra` fields `metrics.log_metrics` passes to logging, in emission order.

    A filter on the `livekit.agents` logger sees each record before any handler formats it,
    so these are exactly the (rounded) values the JSON line carries.
    """

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []
        self._standard = set(vars(logging.makeLogRecord({})))

    def filter(self, record: logging.LogRecord) -> bool:
        if record.funcName == metrics.log_metrics.__name__:
            fields = {k: v for k, v in vars(record).items() if k not in self._standard}
            fields.pop('message', None)
            self.records.append({'message': record.getMessage(), **fields})
        return True


def fallback_instances(session: AgentSession) -> list[Any]:
    """The LLM and TTS instances behind the session's FallbackAdapters (their errors never reach
    the session: the adapter answers with the next instance)."""
    instances = []
    for kind in ('llm', 'tts', 'stt'):
        model = getattr(session, kind, None)
        instances += getattr(model, f'_{kind}_instances', None) or []
    return instances


class LiveKitTotals:
    """Subscribes to one session and writes `<jobs_dir>/<job_id>.json` when the job ends.

    Metrics events come from the app's own `metrics_collected` handler (`on_metrics_collected`):
    a second subscription would log a second deprecation warning, which a real app does not.
    """

    def __init__(
        self, session: AgentSession, job: dict[str, Any], plan: dict[str, Any], *, started_at: float
    ) -> None:
        self._session = session
        self._job = job
        self._plan = plan
        self._started_at = started_at
        self._metrics: list[dict[str, Any]] = []
        self._errors: list[dict[str, Any]] = []
        self._close: dict[str, Any] | None = None
        self._closed = asyncio.Event()
        self._usage_updates = 0
        self._logged = LoggedMetricsCapture()
        logging.getLogger('livekit.agents').addFilter(self._logged)
        self._instance_errors: list[dict[str, Any]] = []
        session.on('error', self._on_error)
        session.on('close', self._on_close)
        session.on('session_usage_updated', self._on_usage_updated)
        for instance in fallback_instances(session):
            instance.on('error', lambda error, instance=instance: self._on_instance_error(instance, error))
        # `--tools`: LiveKit's reports of the function tool executions (absent otherwise)
        self._tools: dict[str, list[dict[str, Any]]] | None = None
        if 'tool_turns' in plan:
            self._tools = {'function_tools_executed': [], 'tool_execution_updated': []}
            session.on('function_tools_executed', self._on_tools_executed)
            if 'tool_execution_updated' in getattr(EventTypes, '__args__', ()):  # 1.8+
                session.on('tool_execution_updated', self._on_tool_execution_updated)

    def on_metrics_collected(self, ev: MetricsCollectedEvent) -> None:
        self._metrics.append(ev.metrics.model_dump(mode='json'))

    def _on_error(self, ev: ErrorEvent) -> None:
        # built field by field: before 1.3 the event's `source` (the model object) does not serialize
        self._errors.append(
            {
                'type': ev.type,
                'error': ev.error.model_dump(mode='json'),
                'source': {
                    'model': getattr(ev.source, 'model', None),
                    'provider': getattr(ev.source, 'provider', None),
                },
                'created_at': getattr(ev, 'created_at', None),  # not on 1.0 events
            }
        )

    def _on_instance_error(self, instance: Any, error: Any) -> None:
        # a failed attempt of one instance behind a FallbackAdapter: the adapter goes on with the
        # next instance (or gives up, and then the session gets an error event of its own)
        self._instance_errors.append(
            {
                'type': error.type,
                'recoverable': error.recoverable,
                'label': error.label,
                'model': instance.model,
                'provider': instance.provider,
            }
        )

    def _on_close(self, ev: CloseEvent) -> None:
        self._close = ev.model_dump(mode='json')
        # 1.0's CloseEvent has neither `created_at` nor `reason`: the time it was received instead
        self._close.setdefault('created_at', time.time())
        self._closed.set()

    def _on_tools_executed(self, ev: Any) -> None:
        assert self._tools is not None
        for call, output in zip(ev.function_calls, ev.function_call_outputs):
            self._tools['function_tools_executed'].append(
                {
                    'name': call.name,
                    'call_id': call.call_id,
                    'is_error': None if output is None else output.is_error,
                    'output': None if output is None else output.output,
                    'created_at': getattr(ev, 'created_at', None),
                }
            )

    def _on_tool_execution_updated(self, ev: Any) -> None:
        assert self._tools is not None
        self._tools['tool_execution_updated'].append({**ev.update.model_dump(mode='json'), 'created_at': ev.created_at})

    def _on_usage_updated(self, _ev: Any) -> None:
        self._usage_updates += 1

    def snapshot(self) -> dict[str, Any]:
        history = [item.model_dump(mode='json') for item in self._session.history.items]
        messages = [item for item in history if item.get('type') == 'message']
        tools = {}
        if self._tools is not None:
            tools = {
                'tool_executions': {
                    **self._tools,
                    'history': [
                        {k: item.get(k) for k in ('type', 'name', 'call_id', 'is_error', 'created_at')}
                        for item in history
                        if item.get('type') in ('function_call', 'function_call_output')
                    ],
                }
            }
        return {
            **self._job,
            **tools,
            'scenario': self._plan['scenario'],
            'sdk_version': __version__,
            'started_at': self._started_at,
            'ended_at': self._close['created_at'] if self._close else time.time(),
            'close': self._close,
            'metrics_events': self._metrics,
            'logged_metrics': self._logged.records,
            'error_events': self._errors,
            'fallback_instance_errors': self._instance_errors,
            'session_usage_updated_events': self._usage_updates,
            'model_usage': model_usage(self._session),
            'messages': [
                {
                    'id': m['id'],
                    'role': m['role'],
                    'interrupted': m.get('interrupted', False),
                    'created_at': m.get('created_at'),
                    'metrics': m.get('metrics') or {},
                }
                for m in messages
            ],
        }

    async def write(self, directory: Path) -> None:
        """Called from a job shutdown callback; waits for the session's own close, which before
        1.8 runs in a shutdown callback of its own, concurrently with this one."""
        try:
            await asyncio.wait_for(self._closed.wait(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            pass  # written without a close event: `close_reason` is null in totals.json
        logging.getLogger('livekit.agents').removeFilter(self._logged)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f'{self._job["job_id"]}.json'
        target.write_text(json.dumps(self.snapshot(), indent=1, sort_keys=True))
