# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""LiveKit log lines as the SDKs write them, built field by field for the tests (one home for them).

Real output is in `fixtures/logs/`; these builders make one line with just the fields a test needs.
"""

import json
from datetime import UTC, datetime

# the fields livekit-agents 1.8.9 adds to a job's lines (the worker forwards them)
JOB = {
    'pid': 20382,
    'job_id': 'AJ_49b9c7b9bb69',
    'room': 'call-0e66d9d8',
    'room_id': 'RM_64c963e27800',
    'agent_name': 'support-agent',
    'code.file.path': '/app/.venv/lib/python3.11/site-packages/livekit/agents/metrics/utils.py',
    'code.function.name': 'log_metrics',
    'code.line.number': 30,
    'timestamp': '2026-11-24T18:49:41.895996+00:00',
}
# a time near the fixtures', for lines placed on a timeline (`iso`, `job_fields`)
T0 = 1795546000.0


def python_line(message, level='INFO', name='livekit.agents', job=JOB, **fields):
    """A line as livekit-agents' JsonFormatter writes it (key order of 1.8.9).

    `job`: the fields that follow the line's own, the job's (`JOB`, `job_fields`); None for a worker
    line, which has only JOB's timestamp.
    """
    record = {'message': message, 'level': level, 'name': name, **fields}
    record.update(job if job is not None else {'timestamp': JOB['timestamp']})
    return json.dumps(record).encode()


def node_line(msg, level=30, time=1795545368220, **fields):
    """A pino line as @livekit/agents writes it (`time` in epoch milliseconds)."""
    return json.dumps({'level': level, 'time': time, 'pid': 11429, 'hostname': 'host-1', **fields, 'msg': msg}).encode()


def companion_line(event, job=JOB, **fields):
    """A record of the `livekit-plugins-datadog` companion (schema 1)."""
    return python_line(
        f'livekit.datadog {event}',
        name='livekit.plugins.datadog',
        job=job,
        **{'livekit.event': event, 'livekit.schema': 1},
        **fields,
    )


def iso(seconds):
    """Python's line time, `seconds` after T0."""
    return datetime.fromtimestamp(T0 + seconds, tz=UTC).isoformat()


def epoch_ms(seconds):
    """Node's line time, `seconds` after T0."""
    return int((T0 + seconds) * 1000)


def job_fields(at, job='AJ_1'):
    """The job fields of a Python line `at` seconds after T0 (`job` None: a worker line at that time)."""
    fields = {'pid': 1}
    if job:
        fields.update(job_id=job, room=f'room-{job}', room_id='RM_1')
    fields['timestamp'] = iso(at)
    return fields
