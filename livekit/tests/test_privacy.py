# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""At DEBUG, LiveKit writes what users and the agent said into the log (`lk.pii.*` fields). None of
it, and no job id or room name, may become a metric name or tag; no transcript may leave in a
record. Checked on real DEBUG logs from the generator's worker, with and without the companion."""

import json
import time

import pytest

from datadog_checks.livekit.logs.pipeline import LogPipeline

from .log_helpers import FIXTURES, generated_sessions, make_check, read_lines, submitted_buckets, submitted_metrics

COMPANION_HOOK = '''
from livekit.plugins import datadog


def instrument(session, job_info):
    datadog.instrument(session, service="support-bot")
'''


def private_values(records):
    """Every `lk.pii.*` value and transcript in the log, as strings."""
    values = set()

    def collect(value):
        if isinstance(value, str):
            values.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif value is not None and not isinstance(value, bool):
            values.add(json.dumps(value))

    for record in records:
        for key, value in record.items():
            if key.startswith('lk.pii.'):
                collect(value)
    return values


@pytest.fixture(scope='module', params=['committed', 'stock', 'companion'])
def debug_log(request):
    if request.param == 'committed':
        return read_lines(FIXTURES / 'python-1.8.9-session-debug.jsonl')
    if request.param == 'stock':
        directory = generated_sessions(12, 'DEBUG', seed=2)
    else:
        directory = generated_sessions(4, 'DEBUG', seed=4, instrument=COMPANION_HOOK)
    return read_lines(directory / 'agent.log')


def test_no_private_value_job_id_or_room_in_metrics_or_records(debug_log, aggregator, datadog_agent):
    records = [json.loads(line) for line in debug_log]
    private = private_values(records)
    texts = {
        r['lk.pii.text'] for r in records if r.get('message') == 'conversation_item_added' and r.get('lk.pii.text')
    }
    assert texts and len(private) >= len(texts), 'the DEBUG log carries transcripts'
    identifiers = {r[key] for r in records for key in ('job_id', 'room', 'room_id') if isinstance(r.get(key), str)}
    assert any(i.startswith('AJ_') for i in identifiers) and any(i.startswith('call-') for i in identifiers)

    pipeline = LogPipeline(min_conversation_turns=1000, tags=('team:voice',))
    check = make_check(('team:voice',))
    pipeline.feed(debug_log)
    now = time.time()
    pipeline.flush(check, now)
    pipeline.flush(check, now + 600)

    submitted = submitted_metrics(aggregator) + submitted_buckets(aggregator, sorted(check.distributions_sent))
    assert submitted
    forbidden = {value for value in private | identifiers if len(value) >= 4}
    for stub in submitted:
        for text in [stub.name, *stub.tags]:
            value = text.partition(':')[2] if text in stub.tags else text
            assert value not in private, text
            assert not any(secret in text for secret in forbidden), text

    sent = check.logs_sent
    assert len(sent) == len({r['job_id'] for r in records if 'job_id' in r})
    for record in sent:
        for key, value in record.items():
            assert not key.startswith('lk.pii.')
            assert value not in texts
            if isinstance(value, str):
                assert not any(text in value for text in texts if len(text) >= 4), (key, value)
