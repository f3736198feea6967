# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The companion through the check: real AgentSessions in a real worker, some instrumented with
`livekit-plugins-datadog`, all of them also logging the stock `log_metrics` lines, read by the
check's log pipeline and compared with LiveKit's own numbers (producers/totals.json)."""

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from datadog_checks.livekit.distributions import bucket_bounds, bucket_index
from datadog_checks.livekit.logs.pipeline import LogPipeline

from .log_helpers import (
    assert_submissions_follow_metadata,
    bucket_counts,
    generated_sessions,
    generator_command,
    load_totals,
    make_check,
    metric_total,
    read_lines,
)

REPO = Path(__file__).resolve().parents[2]
# livekit-agents 1.2.18 with the companion, from livekit-plugins-datadog/tests/make_venv_1_2.sh
PYTHON_1_2 = REPO / '.venv-lk12' / 'bin' / 'python'
SCHEMA = json.loads((REPO / 'docs' / 'companion-records.schema.json').read_text())

CONVERSATIONS = 12  # one of each generator scenario
STOCK_ONLY = (6, 8, 9)  # stt_reconnect, silent_caller, llm_server_errors: no companion
HOOK = f'''
from livekit.plugins import datadog


def instrument(session, job):
    if job["conversation"] not in {STOCK_ONLY!r}:
        datadog.instrument(session, service="support-bot")
'''
COUNTS = ('llm.requests', 'llm.tokens.input', 'llm.tokens.output', 'tts.requests', 'tts.characters', 'turns.user')
DISTRIBUTIONS = ('llm.duration', 'llm.ttft', 'tts.ttfb', 'turn.e2e_latency', 'conversation.turns')


def _sessions(directory):
    totals = load_totals(directory)
    lines = read_lines(directory / 'agent.log')
    companion_jobs = {job_id for job_id, job in totals['jobs'].items() if job['conversation'] not in STOCK_ONLY}
    return lines, totals, companion_jobs


@pytest.fixture(scope='module')
def sessions():
    return _sessions(generated_sessions(CONVERSATIONS, instrument=HOOK))


@pytest.fixture(scope='module')
def sessions_1_2(tmp_path_factory):
    """The same conversations in a real livekit-agents 1.2.18 worker."""
    if not PYTHON_1_2.exists():
        pytest.skip('no .venv-lk12 (livekit-plugins-datadog/tests/make_venv_1_2.sh creates it)')
    hook = tmp_path_factory.mktemp('hook')
    (hook / 'companion_hook.py').write_text(HOOK)
    out = tmp_path_factory.mktemp('sessions-1.2')
    command = generator_command(PYTHON_1_2) + ['--out', str(out), '--conversations', str(CONVERSATIONS)]
    command += [
        '--time-scale',
        '0.05',
        '--concurrency',
        str(CONVERSATIONS),
        '--instrument',
        'companion_hook:instrument',
    ]
    subprocess.run(command, check=True, cwd=hook, capture_output=True, timeout=300)
    return _sessions(out)


def _job_of(raw):
    return json.loads(raw).get('job_id')


def _read(lines, aggregator, datadog_agent):
    """Feed lines to a fresh pipeline and flush twice: the second flush, a day later on the wall
    clock, ends the stock conversations (their close line is DEBUG) by idle timeout."""
    aggregator.reset()
    datadog_agent.reset()
    check = make_check()
    pipeline = LogPipeline(min_conversation_turns=1000)  # every conversation gets a record
    pipeline.feed(lines)
    now = time.time()
    pipeline.flush(check, now)
    pipeline.flush(check, now + 86400)
    counts = {name: metric_total(aggregator, f'livekit.{name}') for name in COUNTS}
    counts['conversations.ended'] = Counter(
        {
            tag: stub.value
            for stub in aggregator.metrics('livekit.conversations.ended')
            for tag in stub.tags
            if tag.startswith('close_reason:')
        }
    )
    for kind in ('llm', 'tts', 'stt'):
        for recoverable in ('true', 'false'):
            counts[f'{kind}.errors.{recoverable}'] = metric_total(
                aggregator, f'livekit.{kind}.errors', recoverable=recoverable
            )
    buckets = {name: bucket_counts(aggregator, f'livekit.{name}') for name in DISTRIBUTIONS}
    buckets['turn.e2e_latency.measured'] = _bucket_counts_with(
        aggregator, 'livekit.turn.e2e_latency', 'method:measured'
    )
    buckets['turn.e2e_latency.estimated'] = _bucket_counts_with(
        aggregator, 'livekit.turn.e2e_latency', 'method:estimated'
    )
    records = {record['job_id']: record for record in check.logs_sent}
    assert_submissions_follow_metadata(aggregator)
    return counts, buckets, records


def _bucket_counts_with(aggregator, name, tag):
    counts = Counter()
    for stub in aggregator.histogram_bucket(name):
        if tag in stub.tags:
            counts[stub.lower_bound] += stub.value
    return counts


def _expected_buckets(values):
    return Counter(bucket_bounds(bucket_index(value))[0] for value in values)


def _estimated_e2e(jobs):
    """end_of_utterance_delay + the ttft of the reply's LLM request + the ttfb of its first TTS request,
    joined by speech_id, for every user turn the agent answered."""
    estimates = []
    for job in jobs:
        events = job['metrics_events']
        for eou in (m for m in events if m['type'] == 'eou_metrics'):
            llm = [m for m in events if m['type'] == 'llm_metrics' and m['speech_id'] == eou['speech_id']]
            tts = [m for m in events if m['type'] == 'tts_metrics' and m['speech_id'] == eou['speech_id']]
            if llm and tts and llm[0]['ttft'] >= 0 and tts[0]['ttfb'] >= 0:
                estimates.append(eou['end_of_utterance_delay'] + llm[0]['ttft'] + tts[0]['ttfb'])
    return estimates


def _metrics(jobs, kind):
    return [event for job in jobs for event in job['metrics_events'] if event['type'] == kind]


@pytest.mark.parametrize('run', ['sessions', 'sessions_1_2'])
def test_the_workers_companion_lines_follow_the_schema(request, run):
    """What the real workers wrote (job fields and all) is what docs/companion-records.schema.json says."""
    lines, _, companion_jobs = request.getfixturevalue(run)
    records = [json.loads(raw) for raw in lines]
    records = [record for record in records if record['name'] == 'livekit.plugins.datadog']
    assert {record['job_id'] for record in records} == companion_jobs
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for record in records:
        errors = [f'{list(error.path)}: {error.message}' for error in validator.iter_errors(record)]
        assert not errors, (record, errors)


def test_companion_jobs_through_the_check_match_livekit(sessions, aggregator, datadog_agent):
    _assert_companion_jobs_match(sessions, aggregator, datadog_agent, measured_latency=True)


def test_companion_on_livekit_agents_1_2(sessions_1_2, aggregator, datadog_agent):
    """1.2 has no ChatMessage.metrics: everything else is the same, without measured turn latency."""
    _assert_companion_jobs_match(sessions_1_2, aggregator, datadog_agent, measured_latency=False)


def _assert_companion_jobs_match(sessions, aggregator, datadog_agent, measured_latency):
    lines, totals, companion_jobs = sessions
    jobs = [totals['jobs'][job_id] for job_id in sorted(companion_jobs)]
    own_lines = [raw for raw in lines if _job_of(raw) in companion_jobs]
    counts, buckets, records = _read(own_lines, aggregator, datadog_agent)

    llm = _metrics(jobs, 'llm_metrics')
    tts = _metrics(jobs, 'tts_metrics')
    assert counts['llm.requests'] == len(llm) > 0
    assert counts['llm.tokens.input'] == sum(m['prompt_tokens'] for m in llm)
    assert counts['llm.tokens.output'] == sum(m['completion_tokens'] for m in llm)
    assert counts['tts.requests'] == len(tts) > 0
    assert counts['tts.characters'] == sum(m['characters_count'] for m in tts) > 0
    assert counts['turns.user'] == sum(job['user_turns'] for job in jobs)

    # exact values, not the stock lines' rounded ones: each lands in the bucket of LiveKit's value
    assert buckets['llm.duration'] == _expected_buckets(m['duration'] for m in llm)
    assert buckets['llm.ttft'] == _expected_buckets(m['ttft'] for m in llm if m['ttft'] >= 0)
    assert buckets['tts.ttfb'] == _expected_buckets(m['ttfb'] for m in tts if m['ttfb'] >= 0)  # -1: no audio
    e2e = [
        m['metrics']['e2e_latency'] for job in jobs for m in job['assistant_messages'] if 'e2e_latency' in m['metrics']
    ]
    assert bool(e2e) is measured_latency
    assert buckets['turn.e2e_latency.measured'] == _expected_buckets(e2e)
    if measured_latency:
        assert not buckets['turn.e2e_latency.estimated']
    else:
        # LiveKit measured nothing: the documented estimate from LiveKit's own events of each turn
        estimates = _estimated_e2e(jobs)
        assert estimates
        assert buckets['turn.e2e_latency.estimated'] == _expected_buckets(estimates)

    errors = Counter()
    for job in jobs:
        for event in job['error_events']:
            kind = event['error']['type'].split('_')[0]
            errors[f'{kind}.errors.{str(event["error"]["recoverable"]).lower()}'] += 1
        for failure in job['fallback_instance_errors']:
            # an instance behind a FallbackAdapter failed: the adapter went on with the next one
            errors[f'{failure["type"].split("_")[0]}.errors.true'] += 1
    assert errors['llm.errors.false'] > 0 and errors['tts.errors.true'] > 0  # the scenarios fail for real
    for name in ('llm.errors.true', 'llm.errors.false', 'tts.errors.true', 'tts.errors.false'):
        assert counts[name] == errors[name], name

    # one conversation per job, ended by the companion's record: turns from session.history,
    # close reason from LiveKit's close event
    assert counts['conversations.ended'] == Counter(f'close_reason:{job["close_reason"]}' for job in jobs)
    assert buckets['conversation.turns'] == _expected_buckets(job['user_turns'] for job in jobs)
    assert set(records) == companion_jobs
    for job in jobs:
        record = records[job['job_id']]
        assert record['turns'] == job['user_turns'], job['scenario']
        assert record['close_reason'] == job['close_reason'], job['scenario']
        assert record['service'] == 'support-bot'
        assert record['duration_s'] == pytest.approx(job['ended_at'] - job['started_at'], abs=0.1)


def test_no_request_counted_twice_when_stock_lines_are_in_the_log(sessions, aggregator, datadog_agent):
    lines, totals, companion_jobs = sessions
    # not vacuous: the companion jobs carry the stock metrics lines as well as the records
    stock_llm_lines = [raw for raw in lines if _job_of(raw) in companion_jobs and b'"LLM metrics"' in raw]
    assert len(stock_llm_lines) == len(_metrics([totals['jobs'][j] for j in companion_jobs], 'llm_metrics'))

    companion, companion_buckets, _ = _read(
        [raw for raw in lines if _job_of(raw) in companion_jobs], aggregator, datadog_agent
    )
    rest, rest_buckets, _ = _read(
        [raw for raw in lines if _job_of(raw) not in companion_jobs], aggregator, datadog_agent
    )
    mixed, mixed_buckets, records = _read(lines, aggregator, datadog_agent)

    every_job = list(totals['jobs'].values())
    assert mixed['llm.requests'] == len(_metrics(every_job, 'llm_metrics'))
    assert mixed['tts.requests'] == len(_metrics(every_job, 'tts_metrics'))
    assert mixed['llm.tokens.input'] == sum(m['prompt_tokens'] for m in _metrics(every_job, 'llm_metrics'))
    # what the mixed log says is exactly the companion jobs' part plus the stock jobs' part
    for name, value in mixed.items():
        assert value == companion[name] + rest[name], name
    for name, counts in mixed_buckets.items():
        assert counts == companion_buckets[name] + rest_buckets[name], name
    assert len(records) == CONVERSATIONS
