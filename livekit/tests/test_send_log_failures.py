# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A failing `send_log` (an Agent without integration log collection) never changes a count: on a real
DEBUG log over several runs, every metric equals LiveKit's and what a working Agent receives."""

import json
import logging
from collections import Counter

import pytest

from datadog_checks.livekit.logs.pipeline import LogPipeline

from .log_helpers import FIXTURES, Check, read_lines, submitted_buckets, submitted_metrics

LOG = FIXTURES / 'python-1.8.9-session-debug.jsonl'
TOTALS = json.loads((FIXTURES / 'python-1.8.9-session-debug.totals.json').read_text())
RUNS = 3
IDLE_TIMEOUT = 600.0


class AgentWithoutSendLog(Check):
    """Agents before the integration-logs launcher have no `send_log` builtin: the call raises."""

    def send_log(self, data, cursor=None, stream='default'):
        self.logs_sent.append(data)
        raise AttributeError("module 'datadog_agent' has no attribute 'send_log'")


def run_three_times(check_class, aggregator):
    """The log in RUNS slices, one flush per run at the time of its last line, as the Agent's runs."""
    lines = read_lines(LOG)
    pipeline = LogPipeline(conversation_idle_timeout=IDLE_TIMEOUT)
    check = check_class('livekit', {}, [{}])
    check.check_id = 'livekit:test'
    size = len(lines) // RUNS + 1
    for run in range(RUNS):
        pipeline.feed(lines[run * size : (run + 1) * size])
        pipeline.flush(check, TOTALS['overall']['ended_at'] + (IDLE_TIMEOUT * 2 if run == RUNS - 1 else 0))
    submitted = Counter()
    for stub in submitted_metrics(aggregator):
        submitted[stub.name, tuple(sorted(stub.tags))] += stub.value
    buckets = Counter()
    for stub in submitted_buckets(aggregator):
        buckets[stub.name, stub.lower_bound, tuple(sorted(stub.tags))] += stub.value
    aggregator.reset()
    return submitted, buckets, check.logs_sent


def total(submitted, name):
    return sum(value for (metric, _), value in submitted.items() if metric == name)


def test_a_raising_send_log_changes_no_count(aggregator, caplog):
    working, working_buckets, records = run_three_times(Check, aggregator)
    short_jobs = [job for job in TOTALS['jobs'].values() if job['user_turns'] < 3]
    assert [r['job_id'] for r in records] == [job['job_id'] for job in short_jobs]
    assert len(records) == 1

    with caplog.at_level(logging.WARNING):
        failing, failing_buckets, attempted = run_three_times(AgentWithoutSendLog, aggregator)
    assert attempted == records

    assert failing == working
    assert failing_buckets == working_buckets
    overall = TOTALS['overall']
    assert total(failing, 'livekit.llm.tokens.input') == overall['tokens']['prompt']
    assert total(failing, 'livekit.llm.tokens.output') == overall['tokens']['completion']
    assert total(failing, 'livekit.llm.requests') == sum(c['count'] for c in overall['metrics_counts']['llm'])
    assert total(failing, 'livekit.turns.user') == overall['user_turns']
    assert total(failing, 'livekit.conversations.started') == overall['conversations']
    assert total(failing, 'livekit.conversations.ended') == overall['conversations']
    assert total(failing, 'livekit.conversations.short') == len(short_jobs)
    assert sum(working_buckets[key] for key in working_buckets if key[0] == 'livekit.conversation.turns') == 4

    warnings = [r.getMessage() for r in caplog.records if 'short-conversation record' in r.getMessage()]
    # once for the run that had a record to send, with the reason and how many were lost
    assert len(warnings) == 1
    assert warnings[0].startswith('Could not send 1 of 1 LiveKit short-conversation record(s)')
    assert "AttributeError: module 'datadog_agent' has no attribute 'send_log'" in warnings[0]


@pytest.mark.parametrize('raises_on', [1, 2])
def test_a_send_log_that_fails_part_of_the_time_warns_with_the_count(aggregator, caplog, raises_on):
    """Of several records, those sent stay sent; the warning counts the others."""
    calls, sent = [], []

    class Flaky(Check):
        def send_log(self, data, cursor=None, stream='default'):
            calls.append(data)
            if len(calls) == raises_on:
                raise RuntimeError('queue full')
            super().send_log(data, cursor, stream)
            sent.append(data)

    # below 99 turns, every one of the 4 conversations is short
    pipeline = LogPipeline(
        min_conversation_turns=99, conversation_idle_timeout=IDLE_TIMEOUT, max_open_conversations=100
    )
    check = Flaky('livekit', {}, [{}])
    check.check_id = 'livekit:flaky'
    pipeline.feed(read_lines(LOG))
    with caplog.at_level(logging.WARNING):
        pipeline.flush(check, TOTALS['overall']['ended_at'] + IDLE_TIMEOUT * 2)
    assert len(calls) == 4
    assert sent == [record for number, record in enumerate(calls, 1) if number != raises_on]
    (warning,) = [r.getMessage() for r in caplog.records if 'short-conversation record' in r.getMessage()]
    assert warning.startswith('Could not send 1 of 4 ') and 'RuntimeError: queue full' in warning
