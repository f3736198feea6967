# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Tools, outcome and turn-taking through the check, against LiveKit's own numbers.

Real sessions of the generator's `--tools` (producers/README.md): on the first user turn the LLM calls
four real function tools, one returns, one raises `ToolError`, one raises `RuntimeError`, one has its
task cancelled. `totals.json` holds, per job, what LiveKit itself reported of them
(`tool_executions.tool_execution_updated`, 1.8+: each call's start and its single end). Stock logs
(INFO and DEBUG) give tool errors only; the companion gives every call, its outcome and duration.
"""

import json
import time
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from datadog_checks.livekit.conversations import MAX_OUTCOMES
from datadog_checks.livekit.distributions import bucket_bounds, bucket_index
from datadog_checks.livekit.logs.formats.companion import TOOL_NAME_CHARS
from datadog_checks.livekit.logs.pipeline import LogPipeline

from .lines import job_fields, node_line, python_line
from .log_helpers import (
    assert_submissions_follow_metadata,
    generated_sessions,
    load_totals,
    make_check,
    read_lines,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / 'docs' / 'companion-records.schema.json').read_text())
CONVERSATIONS = 12
STOCK_ONLY = (6, 8, 9)
# what the agent's code declares, per conversation number: at instrument(), or later with set_outcome
DECLARED = {
    0: 'resolved',
    1: 'Escalated',
    2: 'resolved',
    4: 'callback.scheduled',
    5: 'resolved',
}
SET_LATER = {11: 'Needs Follow-Up'}
HOOK = f"""
from livekit.plugins import datadog


def instrument(session, job):
    n = job["conversation"]
    if n in {STOCK_ONLY!r}:
        return
    datadog.instrument(session, service="support-bot", outcome={DECLARED!r}.get(n % 6))
    if n in {SET_LATER!r}:
        datadog.set_outcome(session, {SET_LATER!r}[n])
"""
# LiveKit's `tool_call_ended` status -> the companion's outcome
LIVEKIT_STATUS = {'done': 'ok', 'error': 'error', 'cancelled': 'cancelled'}


def _tool_sessions(log_level, companion):
    out = generated_sessions(
        CONVERSATIONS, log_level, 1, HOOK if companion else None, concurrency=6, tools=True
    )
    return read_lines(out / 'agent.log'), load_totals(out), out


def _outcome_of(n):
    declared = SET_LATER.get(n, DECLARED.get(n % 6))
    return None if declared is None else declared.lower().replace(' ', '_').replace('.', '_')


def _livekit_tools(job):
    """Counter of (tool name, outcome) of one job, from LiveKit's own tool events."""
    updates = job.get('tool_executions', {}).get('tool_execution_updated', [])
    names = {
        u['function_call']['call_id']: u['function_call']['name'] for u in updates if u['type'] == 'tool_call_started'
    }
    return Counter(
        (names[u['call_id']], LIVEKIT_STATUS[u['status']]) for u in updates if u['type'] == 'tool_call_ended'
    )


def _read(lines, aggregator):
    """(the check's submissions read as counters, the ended conversations' outcomes by job id)."""
    aggregator.reset()
    check = make_check()
    pipeline = LogPipeline(min_conversation_turns=1000)
    outcomes = {}
    conversation_ended = pipeline.handlers.conversation_ended

    def keep_outcome(ended):
        outcomes[ended.conversation.job_id] = ended.outcome
        conversation_ended(ended)

    pipeline.handlers.conversation_ended = keep_outcome
    pipeline.feed(lines)
    now = time.time()
    pipeline.flush(check, now)
    pipeline.flush(check, now + 86400)  # ends the stock conversations by idle timeout
    assert_submissions_follow_metadata(aggregator)
    return outcomes


def _by_tags(aggregator, name, *keys):
    totals = Counter()
    for stub in aggregator.metrics(name):
        tags = dict(tag.split(':', 1) for tag in stub.tags)
        totals[tuple(tags.get(key) for key in keys)] += stub.value
    return totals


def _buckets(aggregator, name):
    counts = Counter()
    for stub in aggregator.histogram_bucket(name):
        counts[stub.lower_bound] += stub.value
    return counts


def _expected_buckets(values):
    return Counter(bucket_bounds(bucket_index(value))[0] for value in values)


def _errors_by_tool(tools):
    return Counter({(name,): n for (name, outcome), n in tools.items() if outcome == 'error'})


# -- stock logs: LiveKit's own tool error lines ---------------------------------------------------


@pytest.mark.parametrize('log_level', ['INFO', 'DEBUG'])
def test_stock_tool_errors_equal_livekits(log_level, aggregator):
    lines, totals, _ = _tool_sessions(log_level, False)
    tools = sum((_livekit_tools(job) for job in totals['jobs'].values()), Counter())
    # not vacuous: every way a tool ends happened, in every job that spoke
    assert set(outcome for _, outcome in tools) == {'ok', 'error', 'cancelled'}
    assert _errors_by_tool(tools) == Counter({('check_outage',): 11, ('book_appointment',): 11})
    _read(lines, aggregator)
    assert _by_tags(aggregator, 'livekit.tool.errors', 'tool_name') == _errors_by_tool(tools)
    # without the companion there is no call count, duration or outcome
    assert not aggregator.metrics('livekit.tool.calls')
    assert not aggregator.histogram_bucket('livekit.tool.duration')
    assert not aggregator.metrics('livekit.turns.interrupted')
    assert not {
        tag
        for stub in aggregator.metrics('livekit.conversations.ended')
        for tag in stub.tags
        if tag.startswith('outcome:')
    }


# -- the companion ---------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def companion_sessions():
    lines, totals, _ = _tool_sessions('INFO', True)
    companion_jobs = {job_id for job_id, job in totals['jobs'].items() if job['conversation'] not in STOCK_ONLY}
    return lines, totals, companion_jobs


def test_the_companions_schema_2_records_follow_the_schema(companion_sessions):
    lines, _, companion_jobs = companion_sessions
    records = [json.loads(raw) for raw in lines]
    records = [record for record in records if record.get('name') == 'livekit.plugins.datadog']
    assert {record['job_id'] for record in records} == companion_jobs
    assert {'tool_call', 'conversation'} <= {record['livekit.event'] for record in records}
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for record in records:
        errors = [f'{list(error.path)}: {error.message}' for error in validator.iter_errors(record)]
        assert not errors, (record, errors)


def test_companion_tool_calls_equal_livekits(companion_sessions, aggregator):
    lines, totals, companion_jobs = companion_sessions
    _read(lines, aggregator)
    companion_tools = sum((_livekit_tools(totals['jobs'][job_id]) for job_id in companion_jobs), Counter())
    every_tool = sum((_livekit_tools(job) for job in totals['jobs'].values()), Counter())
    assert companion_tools and every_tool != companion_tools  # both kinds of jobs called tools

    assert _by_tags(aggregator, 'livekit.tool.calls', 'tool_name', 'outcome') == companion_tools
    # errors: the companion's records in its jobs, LiveKit's lines in the others, never both
    assert _by_tags(aggregator, 'livekit.tool.errors', 'tool_name') == _errors_by_tool(every_tool)
    # one duration per companion call, each in the bucket of the record's value
    durations = [record['duration'] for record in map(json.loads, lines) if record.get('livekit.event') == 'tool_call']
    assert len(durations) == sum(companion_tools.values())
    assert _buckets(aggregator, 'livekit.tool.duration') == _expected_buckets(durations)
    assert {
        tag.partition(':')[0] for stub in aggregator.histogram_bucket('livekit.tool.duration') for tag in stub.tags
    } <= {
        'tool_name',
        'language',
        'agent_name',
    }


def test_companion_outcomes_are_what_the_agent_declared(companion_sessions, aggregator):
    lines, totals, companion_jobs = companion_sessions
    outcomes = _read(lines, aggregator)
    expected = {job_id: _outcome_of(job['conversation']) for job_id, job in totals['jobs'].items()}
    assert {job_id: outcomes[job_id] for job_id in companion_jobs} == {
        job_id: expected[job_id] for job_id in companion_jobs
    }
    assert {outcomes[job_id] for job_id in companion_jobs} >= {
        'resolved',
        'escalated',
        'callback_scheduled',
        'needs_follow-up',
        None,
    }
    # stock jobs declare nothing the check can see
    assert all(outcomes[job_id] is None for job_id in set(totals['jobs']) - companion_jobs)


def test_companion_outcomes_tag_conversations_ended(companion_sessions, aggregator):
    lines, totals, companion_jobs = companion_sessions
    _read(lines, aggregator)
    # a job without the companion has no conversation record, so no declared outcome reaches the check
    expected = Counter(
        (_outcome_of(job['conversation']) if job_id in companion_jobs else None,)
        for job_id, job in totals['jobs'].items()
    )
    assert _by_tags(aggregator, 'livekit.conversations.ended', 'outcome') == expected


def test_companion_turn_taking_equals_livekits(companion_sessions, aggregator):
    lines, totals, companion_jobs = companion_sessions
    _read(lines, aggregator)
    jobs = [totals['jobs'][job_id] for job_id in companion_jobs]
    replies = [m for job in jobs for m in job['assistant_messages']]
    user = [m for job in jobs for m in job['user_messages']]
    completed = [
        m['metrics']['on_user_turn_completed_delay'] for m in user if 'on_user_turn_completed_delay' in m['metrics']
    ]
    playback = [m['metrics']['playback_latency'] for m in replies if 'playback_latency' in m['metrics']]
    assert completed and playback
    assert _buckets(aggregator, 'livekit.eou.on_user_turn_completed_delay') == _expected_buckets(completed)
    assert _buckets(aggregator, 'livekit.turn.playback_latency') == _expected_buckets(playback)
    interrupted = sum(1 for m in replies if m.get('interrupted'))
    assert sum(stub.value for stub in aggregator.metrics('livekit.turns.interrupted')) == interrupted
    # LiveKit's own session totals of the conversation records agree
    conversations = [json.loads(raw) for raw in lines if b'"livekit.datadog conversation"' in raw]
    assert sum(record['interrupted_turns'] for record in conversations) == interrupted
    false = sum(record['false_interruptions'] for record in conversations)
    assert sum(stub.value for stub in aggregator.metrics('livekit.interruptions.false')) == false


# -- line shapes: LiveKit's own texts (Python voice/generation.py, Node voice/generation.js) ------


def companion_line(event, job='AJ_c', **fields):
    """A schema-2 record of the companion."""
    return python_line(
        f'livekit.datadog {event}',
        name='livekit.plugins.datadog',
        job=job_fields(0, job),
        **{'livekit.event': event, 'livekit.schema': 2},
        **fields,
    )


def _feed(lines, aggregator):
    aggregator.reset()
    check = make_check()
    pipeline = LogPipeline()
    pipeline.feed(lines)
    pipeline.flush(check, time.time())
    assert_submissions_follow_metadata(aggregator)
    return check


def test_stock_tool_error_lines_count_by_tool_name_only(aggregator):
    lines = [
        python_line(
            'ToolError while executing tool',
            level='WARNING',
            function='check_outage',
            **{'lk.pii.error': 'x'},
        ),
        python_line(
            'exception occurred while executing tool\nTraceback (most recent call last):\n  ...',
            level='ERROR',
            function='book_appointment',
        ),
        python_line('exception occurred while executing tool', level='ERROR', function='x' * 300),
        node_line(
            'exception occurred while executing tool',
            level=50,
            function='lookup',
            error='secret',
        ),
        node_line(
            'exception occurred while executing tool after a progress update',
            level=50,
            function='lookup',
        ),
    ]
    _feed(lines, aggregator)
    assert _by_tags(aggregator, 'livekit.tool.errors', 'tool_name', 'language') == Counter(
        {
            ('check_outage', 'python'): 1,
            ('book_appointment', 'python'): 1,
            ('x' * TOOL_NAME_CHARS, 'python'): 1,
            ('lookup', 'node'): 2,
        }
    )
    tags = {tag for stub in aggregator.metrics('livekit.tool.errors') for tag in stub.tags}
    assert not any('secret' in tag or tag.startswith('error:') for tag in tags)


def test_stock_tool_error_lines_of_a_companions_job_are_not_counted_twice(aggregator):
    lines = [
        companion_line('session_start'),
        companion_line(
            'tool_call',
            tool_name='check_outage',
            duration=0.2,
            outcome='error',
            tool_error=True,
        ),
        python_line(
            'ToolError while executing tool',
            level='WARNING',
            function='check_outage',
            job=job_fields(1, 'AJ_c'),
        ),
    ]
    _feed(lines, aggregator)
    assert _by_tags(aggregator, 'livekit.tool.errors', 'tool_name') == Counter({('check_outage',): 1})


def test_backchannels_and_false_interruptions(aggregator):
    lines = [
        python_line(
            'Interruption metrics',
            num_interruptions=2,
            num_backchannels=3,
            job=job_fields(0, 'AJ_py'),
        ),
        node_line('Interruption metrics', numInterruptions=1, numBackchannels=4, numRequests=2),
        companion_line('session_start'),
        companion_line('interruption', num_interruptions=1, num_backchannels=5),
        companion_line('false_interruption', resumed=True),
        companion_line('false_interruption', resumed=False),
        companion_line(
            'turn',
            role='assistant',
            item_id='i1',
            interrupted=True,
            playback_latency=0.01,
        ),
        companion_line(
            'turn',
            role='user',
            item_id='i2',
            interrupted=False,
            on_user_turn_completed_delay=0.5,
        ),
    ]
    _feed(lines, aggregator)
    total = lambda name: sum(stub.value for stub in aggregator.metrics(name))  # noqa: E731
    assert total('livekit.interruptions.backchannels') == 12
    assert total('livekit.interruptions') == 4
    assert total('livekit.interruptions.false') == 2
    assert total('livekit.turns.interrupted') == 1
    assert sum(_buckets(aggregator, 'livekit.turn.playback_latency').values()) == 1
    assert sum(_buckets(aggregator, 'livekit.eou.on_user_turn_completed_delay').values()) == 1


def test_outcomes_are_bounded_and_capped_per_run(aggregator):
    outcomes = [f'outcome_{i}' for i in range(MAX_OUTCOMES + 5)] + [
        'Not A Tag!',
        'x' * 33,
        'OUTCOME_0',
    ]
    lines = []
    for i, outcome in enumerate(outcomes):
        job = f'AJ_{i}'
        lines.append(companion_line('session_start', job))
        lines.append(companion_line('conversation', job, close_reason='user_initiated', outcome=outcome))
    aggregator.reset()
    check = make_check()
    pipeline = LogPipeline()
    ended = []
    conversation_ended = pipeline.handlers.conversation_ended
    pipeline.handlers.conversation_ended = lambda e: (
        ended.append(e.outcome),
        conversation_ended(e),
    )
    pipeline.feed(lines)
    pipeline.flush(check, time.time())
    assert ended[:MAX_OUTCOMES] == outcomes[:MAX_OUTCOMES]
    # beyond the cap a new value is `other` (an overflow), and so is one that is no tag value (no
    # overflow); one already seen in the run stays
    assert ended[MAX_OUTCOMES:] == ['other'] * 7 + ['outcome_0']
    assert sum(stub.value for stub in aggregator.metrics('livekit.conversations.outcome_overflow')) == 5
    # the next run starts a fresh vocabulary
    pipeline.feed(
        [
            companion_line('session_start', 'AJ_next'),
            companion_line('conversation', 'AJ_next', outcome='outcome_99'),
        ]
    )
    ended.clear()
    pipeline.flush(check, time.time())
    assert ended == ['outcome_99']
