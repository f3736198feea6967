# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The log pipeline against real LiveKit output, compared exactly with LiveKit's own numbers.

The generator (producers/session_generator.py) runs real livekit-agents 1.8.9 AgentSessions in the
real worker, with scripted audio, local providers and injected provider failures; the worker's
stdout is the log we read, and `totals.json` holds what LiveKit itself counted (metrics events,
error and close events, session.history). Nothing expected here comes from our parser.
"""

import json
import math
import time
from collections import Counter, defaultdict

import pytest

from datadog_checks.livekit.distributions import bucket_bounds, bucket_index
from datadog_checks.livekit.logs.pipeline import LogPipeline

from .log_helpers import (
    FIXTURES,
    all_buckets,
    assert_submissions_follow_metadata,
    bucket_counts,
    datadog_quantile,
    generated_sessions,
    load_totals,
    make_check,
    metric_total,
    read_lines,
    totals_by_tag,
)

INSTANCE_TAGS = ('team:voice',)
IDLE_TIMEOUT = 600.0


def run_pipeline(lines, chunk=1000, **options):
    """Feed the lines in chunks as the tailer would, flush, then flush again once every
    conversation has been idle for the timeout; returns the records sent with `send_log`."""
    pipeline = LogPipeline(tags=INSTANCE_TAGS, conversation_idle_timeout=IDLE_TIMEOUT, **options)
    check = make_check(INSTANCE_TAGS)
    for start in range(0, len(lines), chunk):
        pipeline.feed(lines[start : start + chunk])
    now = time.time()
    pipeline.flush(check, now)
    pipeline.flush(check, now + IDLE_TIMEOUT)
    assert pipeline.dump_state()['open'] == []
    return list(check.logs_sent)


def expected_by_model(totals, kind):
    return {(c['model'], c['provider']): c['count'] for c in totals['overall']['metrics_counts'][kind]}


def submitted_by_model(aggregator, name):
    result = defaultdict(int)
    for stub in aggregator.metrics(name):
        tags = dict(tag.split(':', 1) for tag in stub.tags)
        result[(tags.get('model'), tags.get('provider'))] += stub.value
    return dict(result)


def livekit_events(totals, kind):
    return [event for job in totals['jobs'].values() for event in job['metrics_events'] if event['type'] == kind]


def logged_bucket_counts(values):
    """What the buckets must hold for values LiveKit logged (-1 = no first token, skipped)."""
    return Counter(bucket_bounds(bucket_index(v))[0] for v in values if v != -1)


@pytest.fixture(scope='module')
def info_run():
    """The production default: INFO, so no close lines and no per-turn DEBUG lines."""
    directory = generated_sessions(20, 'INFO')
    return read_lines(directory / 'agent.log'), load_totals(directory)


@pytest.fixture(scope='module')
def debug_run():
    directory = generated_sessions(12, 'DEBUG', seed=2)
    return read_lines(directory / 'agent.log'), load_totals(directory)


@pytest.mark.parametrize('run', ['info_run', 'debug_run'])
def test_requests_and_tokens_per_model_match_livekit(request, run, aggregator, datadog_agent):
    lines, totals = request.getfixturevalue(run)
    run_pipeline(lines)

    for kind, metric in (('llm', 'llm.requests'), ('tts', 'tts.requests'), ('stt', 'stt.requests')):
        assert submitted_by_model(aggregator, f'livekit.{metric}') == expected_by_model(totals, kind), kind

    expected_tokens = defaultdict(Counter)
    for event in livekit_events(totals, 'llm_metrics'):
        model = (event['metadata']['model_name'], event['metadata']['model_provider'])
        expected_tokens['input'][model] += event['prompt_tokens']
        expected_tokens['output'][model] += event['completion_tokens']
        expected_tokens['cached'][model] += event['prompt_cached_tokens']
        expected_tokens['cache_creation'][model] += event['cache_creation_tokens']
    for name, per_model in expected_tokens.items():
        expected = {model: value for model, value in per_model.items() if value}
        assert submitted_by_model(aggregator, f'livekit.llm.tokens.{name}') == expected, name
    # and the session's own usage agrees: input tokens include the cached ones, never added twice
    usage = totals['overall']['usage_tokens']
    assert metric_total(aggregator, 'livekit.llm.tokens.input') == usage['input']
    assert metric_total(aggregator, 'livekit.llm.tokens.output') == usage['output']
    assert metric_total(aggregator, 'livekit.llm.tokens.cached') == usage['input_cached']

    # every model metric carries the job's agent name, the language and the instance tags
    for name in ('livekit.llm.requests', 'livekit.tts.requests', 'livekit.stt.requests', 'livekit.llm.tokens.input'):
        for stub in aggregator.metrics(name):
            assert {'agent_name:support-agent', 'language:python', 'team:voice'} <= set(stub.tags)
    assert_submissions_follow_metadata(aggregator)


@pytest.mark.parametrize('run', ['info_run', 'debug_run'])
def test_provider_errors_match_livekit_error_events(request, run, aggregator, datadog_agent):
    lines, totals = request.getfixturevalue(run)
    run_pipeline(lines)
    expected = totals['overall']['errors']
    assert expected['llm_error']['recoverable'] and expected['llm_error']['unrecoverable'], 'the run injects failures'
    for kind, metric in (('llm_error', 'llm.errors'), ('tts_error', 'tts.errors'), ('stt_error', 'stt.errors')):
        counts = expected.get(kind, {'recoverable': 0, 'unrecoverable': 0})
        submitted = totals_by_tag(aggregator, f'livekit.{metric}', 'recoverable')
        assert submitted.get('true', 0) == counts['recoverable'], kind
        assert submitted.get('false', 0) == counts['unrecoverable'], kind

    # and each failed attempt is charged to the provider that failed: for a FallbackAdapter, the
    # instance that failed, not the one that answered instead
    switched = [e for job in totals['jobs'].values() for e in job['fallback_instance_errors']]
    assert {e['type'] for e in switched} == {'llm_error', 'tts_error'}, 'the run puts both behind a FallbackAdapter'
    expected_providers = Counter(
        (e['error']['type'].split('_')[0], e['source']['provider'])
        for job in totals['jobs'].values()
        for e in job['error_events']
    )
    expected_providers.update((e['type'].split('_')[0], e['provider']) for e in switched)
    submitted_providers = Counter()
    for kind in ('llm', 'tts', 'stt'):
        for provider, value in totals_by_tag(aggregator, f'livekit.{kind}.errors', 'provider').items():
            submitted_providers[kind, provider] += value
    assert submitted_providers == expected_providers


@pytest.mark.parametrize('run', ['info_run', 'debug_run'])
def test_user_turns_per_conversation_match_livekit(request, run, aggregator, datadog_agent):
    lines, totals = request.getfixturevalue(run)
    # every conversation is "short" below 1000 turns, so each one sends its record
    records = run_pipeline(lines, min_conversation_turns=1000)
    by_job = {record['job_id']: record for record in records}
    assert set(by_job) == set(totals['jobs'])
    for job_id, job in totals['jobs'].items():
        record = by_job[job_id]
        assert record['turns'] == job['eou_events'], job_id
        assert (record['room'], record['agent_name'], record['language']) == (job['room'], job['agent_name'], 'python')
    assert metric_total(aggregator, 'livekit.turns.user') == totals['overall']['eou_events']
    assert metric_total(aggregator, 'livekit.conversations.started') == len(totals['jobs'])
    assert metric_total(aggregator, 'livekit.conversations.ended') == len(totals['jobs'])
    assert bucket_counts(aggregator, 'livekit.conversation.turns') == logged_bucket_counts(
        job['eou_events'] for job in totals['jobs'].values()
    )


def test_close_reasons_match_livekit_close_events(debug_run, aggregator, datadog_agent):
    lines, totals = debug_run
    records = run_pipeline(lines, min_conversation_turns=1000)
    assert {r['job_id']: r['close_reason'] for r in records} == {
        job_id: job['close_reason'] for job_id, job in totals['jobs'].items()
    }
    assert (
        totals_by_tag(aggregator, 'livekit.conversations.ended', 'close_reason') == totals['overall']['close_reasons']
    )
    # a close line ends its conversation: the job's later lines (process exiting, ...) never reopen it
    assert metric_total(aggregator, 'livekit.conversations.started') == len(totals['jobs'])
    for record in records:
        job = totals['jobs'][record['job_id']]
        # from the first line of the job to its close line, inside LiveKit's own session span
        assert 0 < record['duration_s'] <= job['ended_at'] - job['started_at'] + 5


def test_without_close_lines_conversations_end_after_the_idle_timeout(info_run, aggregator, datadog_agent):
    lines, totals = info_run
    records = run_pipeline(lines, min_conversation_turns=1000)
    assert Counter(r['close_reason'] for r in records) == {'idle_timeout': len(totals['jobs'])}


def test_short_conversations_match_livekit(info_run, aggregator, datadog_agent):
    lines, totals = info_run
    records = run_pipeline(lines)
    short = {job_id for job_id, job in totals['jobs'].items() if job['eou_events'] < 3}
    assert short, 'the plans include short conversations'
    assert {r['job_id'] for r in records} == short
    assert metric_total(aggregator, 'livekit.conversations.short') == len(short)
    for record in records:
        job = totals['jobs'][record['job_id']]
        assert record['message'] == 'LiveKit conversation below 3 turns'
        assert record['livekit.event'] == 'conversation.short'
        assert record['ddsource'] == 'livekit'
        assert (record['turns'], record['min_turns']) == (job['eou_events'], 3)
        assert job['started_at'] - 5 < record['timestamp'] < job['ended_at'] + 5
    # the Agent receives them with the instance tags and the time in milliseconds
    received = [{**r, 'ddtags': 'team:voice', 'timestamp': int(r['timestamp'] * 1000)} for r in records]
    datadog_agent.assert_logs('livekit:test', received)


def test_latencies_hold_exactly_what_livekit_logged(info_run, aggregator, datadog_agent):
    lines, totals = info_run
    run_pipeline(lines)
    logged = totals['overall']['latencies_logged']
    assert bucket_counts(aggregator, 'livekit.llm.ttft') == logged_bucket_counts(logged['llm_ttft'])
    assert bucket_counts(aggregator, 'livekit.tts.ttfb') == logged_bucket_counts(logged['tts_ttfb'])
    assert bucket_counts(aggregator, 'livekit.eou.end_of_utterance_delay') == logged_bucket_counts(
        logged['eou_end_of_utterance_delay']
    )
    assert bucket_counts(aggregator, 'livekit.eou.transcription_delay') == logged_bucket_counts(
        logged['eou_transcription_delay']
    )
    assert metric_total(aggregator, 'livekit.tts.audio_duration') == pytest.approx(sum(logged['tts_audio_duration']))
    assert metric_total(aggregator, 'livekit.stt.audio_duration') == pytest.approx(sum(logged['stt_audio_duration']))


def test_request_duration_percentiles_match_livekit_durations(info_run, aggregator, datadog_agent):
    lines, totals = info_run
    run_pipeline(lines)
    # stock lines give completion_tokens / tokens_per_second, i.e. LiveKit's duration
    durations = sorted(e['duration'] for e in livekit_events(totals, 'llm_metrics') if e['completion_tokens'] > 0)
    buckets = all_buckets(aggregator, 'livekit.llm.duration')
    assert sum(count for _, _, count in buckets) == len(durations)
    for q in (0.5, 0.95):
        true = durations[math.floor(q * (len(durations) - 1))]
        assert datadog_quantile(buckets, q) == pytest.approx(true, rel=0.05)


def test_estimated_e2e_latency_per_answered_turn(info_run, aggregator, datadog_agent):
    lines, totals = info_run
    run_pipeline(lines)
    buckets = all_buckets(aggregator, 'livekit.turn.e2e_latency')
    estimates = sum(count for _, _, count in buckets)
    # one estimate per user turn that got an answer; LiveKit measures its e2e on the same turns
    assert 0 < estimates <= totals['overall']['eou_events']
    assert abs(estimates - len(totals['overall']['latencies']['e2e_latency'])) <= len(totals['jobs'])
    for stub in aggregator.histogram_bucket('livekit.turn.e2e_latency'):
        assert 'method:estimated' in stub.tags


@pytest.mark.parametrize('run', ['info_run', 'debug_run'])
def test_every_line_is_counted_by_level_and_errors_by_logger(request, run, aggregator, datadog_agent):
    lines, _ = request.getfixturevalue(run)
    run_pipeline(lines)
    decoded = [json.loads(line) for line in lines]
    levels = Counter(record['level'].lower() for record in decoded)
    assert totals_by_tag(aggregator, 'livekit.log.lines', 'level') == levels
    errors = Counter(record['name'] for record in decoded if record['level'] in ('ERROR', 'CRITICAL'))
    assert totals_by_tag(aggregator, 'livekit.log.errors', 'logger') == errors
    assert not aggregator.metrics('livekit.log.unparsed')


def test_restart_between_runs_loses_nothing(info_run, aggregator, datadog_agent):
    """The same log read in two check runs with a restart between them gives the same totals."""
    lines, totals = info_run
    half = len(lines) // 2
    check = make_check(INSTANCE_TAGS)
    first = LogPipeline(tags=INSTANCE_TAGS, min_conversation_turns=1000)
    first.feed(lines[:half])
    now = time.time()
    first.flush(check, now)
    state = json.loads(json.dumps(first.dump_state()))

    second = LogPipeline(tags=INSTANCE_TAGS, min_conversation_turns=1000)
    second.restore(state)
    second.feed(lines[half:])
    second.flush(check, now + 1)
    second.flush(check, now + 1 + IDLE_TIMEOUT)

    records = check.logs_sent
    assert {r['job_id']: r['turns'] for r in records} == {j: job['eou_events'] for j, job in totals['jobs'].items()}
    assert metric_total(aggregator, 'livekit.conversations.started') == len(totals['jobs'])
    assert submitted_by_model(aggregator, 'livekit.llm.requests') == expected_by_model(totals, 'llm')


COMPANION_HOOK = """
from livekit.plugins import datadog


def instrument(session, job_info):
    datadog.instrument(session, service="support-bot")
"""


@pytest.fixture(scope='module')
def companion_run():
    """The same sessions with livekit-plugins-datadog: its records and the stock lines side by side."""
    directory = generated_sessions(8, 'INFO', seed=3, instrument=COMPANION_HOOK)
    return read_lines(directory / 'agent.log'), load_totals(directory)


def test_companion_counts_each_request_once(companion_run, aggregator, datadog_agent):
    lines, totals = companion_run
    assert any(b'"livekit.datadog llm_request"' in line for line in lines)
    assert any(b'"LLM metrics"' in line for line in lines), 'the stock lines are there too'
    run_pipeline(lines)
    for kind, metric in (('llm', 'llm.requests'), ('tts', 'tts.requests'), ('stt', 'stt.requests')):
        assert submitted_by_model(aggregator, f'livekit.{metric}') == expected_by_model(totals, kind), kind
    usage = totals['overall']['usage_tokens']
    assert metric_total(aggregator, 'livekit.llm.tokens.input') == usage['input']
    assert metric_total(aggregator, 'livekit.llm.tokens.output') == usage['output']
    assert metric_total(aggregator, 'livekit.tts.characters') == totals['overall']['tts_characters']
    for kind, metric in (('llm_error', 'llm.errors'), ('tts_error', 'tts.errors'), ('stt_error', 'stt.errors')):
        counts = totals['overall']['errors'].get(kind, {'recoverable': 0, 'unrecoverable': 0})
        submitted = totals_by_tag(aggregator, f'livekit.{metric}', 'recoverable')
        assert (submitted.get('true', 0), submitted.get('false', 0)) == (counts['recoverable'], counts['unrecoverable'])
    # the companion's errors name the model that failed, as LiveKit's error events do
    expected_sources = Counter(
        (event['source']['model'], event['source']['provider'])
        for job in totals['jobs'].values()
        for event in job['error_events']
        if event['error']['type'] == 'llm_error'
    )
    assert Counter(submitted_by_model(aggregator, 'livekit.llm.errors')) == expected_sources
    assert_submissions_follow_metadata(aggregator)


def test_companion_gives_measured_durations_and_latencies(companion_run, aggregator, datadog_agent):
    lines, totals = companion_run
    run_pipeline(lines)
    durations = [e['duration'] for e in livekit_events(totals, 'llm_metrics')]
    assert bucket_counts(aggregator, 'livekit.llm.duration') == logged_bucket_counts(durations)
    assert bucket_counts(aggregator, 'livekit.turn.e2e_latency') == logged_bucket_counts(
        totals['overall']['latencies']['e2e_latency']
    )
    for stub in aggregator.histogram_bucket('livekit.turn.e2e_latency'):
        assert 'method:measured' in stub.tags


def test_companion_conversations_match_session_history_and_close_events(companion_run, aggregator, datadog_agent):
    lines, totals = companion_run
    records = run_pipeline(lines, min_conversation_turns=1000)
    by_job = {record['job_id']: record for record in records}
    assert set(by_job) == set(totals['jobs'])
    for job_id, job in totals['jobs'].items():
        record = by_job[job_id]
        # turns from session.history and the close reason from the close event, even at INFO
        assert (record['turns'], record['close_reason']) == (job['user_turns'], job['close_reason']), job_id
        assert (record['service'], record['room'], record['agent_name']) == (
            'support-bot',
            job['room'],
            job['agent_name'],
        )
        assert 'trace_id' not in record  # no OTel tracer provider in these sessions
    assert metric_total(aggregator, 'livekit.turns.user') == totals['overall']['user_turns']
    assert (
        totals_by_tag(aggregator, 'livekit.conversations.ended', 'close_reason') == totals['overall']['close_reasons']
    )


# -- committed captures of Python releases (producers/capture_*.py): 1.8.9, and older shapes -----

CAPTURES = {
    path.name.split('.expected.json')[0].split('.totals.json')[0]: path
    for pattern in ('python-*.expected.json', 'python-*.totals.json')
    for path in FIXTURES.glob(pattern)
}


def test_captures_of_python_releases_are_committed():
    # the releases the parser must keep reading: values in the message (<= 1.1.5), model fields (1.2.x)
    assert any(name.startswith('python-1.1.') for name in CAPTURES)
    assert any(name.startswith('python-1.2.') for name in CAPTURES)
    assert any(name.startswith('python-1.8.') for name in CAPTURES)


@pytest.mark.parametrize('capture', sorted(CAPTURES))
def test_captures_of_python_releases_match_livekit(capture, aggregator, datadog_agent):
    lines = read_lines(FIXTURES / f'{capture}.jsonl')
    totals = json.loads(CAPTURES[capture].read_text())
    records = run_pipeline(lines, min_conversation_turns=1000)
    if any(b'"session closed"' in line for line in lines):
        assert {r['job_id']: r['close_reason'] for r in records} == {
            job_id: job['close_reason'] for job_id, job in totals['jobs'].items()
        }
    with_models = any(b'"model_name"' in line for line in lines)

    for kind, metric in (('llm', 'llm.requests'), ('tts', 'tts.requests'), ('stt', 'stt.requests')):
        expected = expected_by_model(totals, kind)
        if not with_models:
            # before 1.2.12 the lines name no model
            expected = {(None, None): sum(expected.values())}
        assert submitted_by_model(aggregator, f'livekit.{metric}') == expected, kind
    tokens = totals['overall']['tokens']
    assert metric_total(aggregator, 'livekit.llm.tokens.input') == tokens['prompt']
    assert metric_total(aggregator, 'livekit.llm.tokens.output') == tokens['completion']
    assert metric_total(aggregator, 'livekit.llm.tokens.cached') == tokens['cached']
    for kind, metric in (('llm_error', 'llm.errors'), ('tts_error', 'tts.errors'), ('stt_error', 'stt.errors')):
        counts = totals['overall']['errors'].get(kind, {'recoverable': 0, 'unrecoverable': 0})
        submitted = totals_by_tag(aggregator, f'livekit.{metric}', 'recoverable')
        assert (submitted.get('true', 0), submitted.get('false', 0)) == (
            counts['recoverable'],
            counts['unrecoverable'],
        ), kind
    assert {r['job_id']: r['turns'] for r in records} == {j: job['eou_events'] for j, job in totals['jobs'].items()}
    assert {r['job_id']: r.get('room') for r in records} == {j: job['room'] for j, job in totals['jobs'].items()}
    # up to 1.1.5 the values are inside the message: f'ttft={ttft:.2f}', f'ttfb={ttfb}'
    ttft = [float(f'{e["ttft"]:.2f}') for e in livekit_events(totals, 'llm_metrics')]
    ttfb = [e['ttfb'] for e in livekit_events(totals, 'tts_metrics')]
    assert bucket_counts(aggregator, 'livekit.llm.ttft') == logged_bucket_counts(ttft)
    assert bucket_counts(aggregator, 'livekit.tts.ttfb') == logged_bucket_counts(ttfb)
    assert_submissions_follow_metadata(aggregator)


# -- committed capture of the Node SDK (producers/capture_node.mjs, real @livekit/agents worker) --

NODE_CAPTURES = sorted(path.name[: -len('.expected.json')] for path in FIXTURES.glob('node-*.expected.json'))


def test_a_node_capture_is_committed():
    assert NODE_CAPTURES


def check_node_capture(lines, totals, aggregator, datadog_agent, job_ids_on_job_lines=True):
    records = run_pipeline(lines, min_conversation_turns=1000)
    overall = totals['overall']
    counts, errors = overall['metrics_counts'], overall['errors']
    # Node writes an `LLM metrics` line for a request that failed for good: no success
    llm_failures = errors['llm_error']['unrecoverable']
    assert metric_total(aggregator, 'livekit.llm.requests') == (
        counts['llm_metrics'] - llm_failures + counts.get('realtime_model_metrics', 0)
    )
    tokens, realtime = overall['tokens'], overall['realtime_tokens']
    assert metric_total(aggregator, 'livekit.llm.tokens.input') == tokens['prompt'] + realtime['input']
    assert metric_total(aggregator, 'livekit.llm.tokens.output') == tokens['completion'] + realtime['output']
    assert metric_total(aggregator, 'livekit.llm.tokens.cached') == tokens['cached'] + realtime['cached']
    assert metric_total(aggregator, 'livekit.tts.requests') == counts['tts_metrics']
    assert metric_total(aggregator, 'livekit.stt.requests') == counts['stt_metrics']
    assert metric_total(aggregator, 'livekit.interruptions') == overall['interruptions']
    # logMetrics rounds audio durations to whole milliseconds
    logged = overall['latencies_logged_ms']
    assert metric_total(aggregator, 'livekit.tts.audio_duration') == pytest.approx(
        sum(logged['tts_audio_duration']) / 1000
    )
    assert metric_total(aggregator, 'livekit.stt.audio_duration') == pytest.approx(
        sum(logged['stt_audio_duration']) / 1000
    )

    def seconds(values):
        # -1 ms: no first token or byte
        return [v / 1000 for v in values if v != -1]

    assert bucket_counts(aggregator, 'livekit.llm.ttft') == logged_bucket_counts(
        seconds(logged['llm_ttft'] + logged['realtime_ttft'])
    )
    assert bucket_counts(aggregator, 'livekit.tts.ttfb') == logged_bucket_counts(seconds(logged['tts_ttfb']))
    assert bucket_counts(aggregator, 'livekit.eou.end_of_utterance_delay') == logged_bucket_counts(
        seconds(logged['eou_end_of_utterance_delay'])
    )

    llm = totals_by_tag(aggregator, 'livekit.llm.errors', 'recoverable')
    assert llm.get('true', 0) == errors['llm_error']['recoverable']
    if job_ids_on_job_lines:
        # a final failure shows as the job's `LLM metrics` line without a response after its retries
        assert llm.get('false', 0) == llm_failures
    # Node emits no error event for a TTS or STT retry, but logs each failed attempt
    decoded = [json.loads(line) for line in lines]
    for kind, texts in (
        ('tts', ('failed to generate TTS completion', 'failed to synthesize speech')),
        ('stt', ('failed to recognize speech',)),
    ):
        retries = sum(1 for r in decoded if r['level'] == 40 and str(r.get('msg')).startswith(texts))
        assert totals_by_tag(aggregator, f'livekit.{kind}.errors', 'recoverable') == (
            {'true': retries} if retries else {}
        )

    if not job_ids_on_job_lines:
        return
    # turns from EOU lines, or realtime responses in a realtime conversation; close reasons at INFO
    assert {r['job_id']: (r['turns'], r['close_reason']) for r in records} == {
        job_id: (job['user_turns'], job['close_reason']) for job_id, job in totals['jobs'].items()
    }
    assert {r['language'] for r in records} == {'node'}
    assert_submissions_follow_metadata(aggregator)


def test_older_node_worker_metrics_match_livekit(aggregator, datadog_agent):
    """A real @livekit/agents 1.6.4 worker: before 1.9.0 a job's own lines carry no job id (its job
    process never installs the job's logger), so what needs the job is not seen (conversations, the
    final LLM failure after retries); every metric of the lines themselves equals LiveKit's."""
    lines = read_lines(FIXTURES / 'node-1.6.4-worker.jsonl')
    totals = json.loads((FIXTURES / 'node-1.6.4-worker.totals.json').read_text())
    assert totals['sdk_version'] == '1.6.4'
    assert not any(b'"jobID"' in line for line in lines if b'"msg":"LLM metrics"' in line)
    check_node_capture(lines, totals, aggregator, datadog_agent, job_ids_on_job_lines=False)


@pytest.mark.parametrize('capture', NODE_CAPTURES)
def test_node_capture_matches_livekit(capture, aggregator, datadog_agent):
    lines = read_lines(FIXTURES / f'{capture}.jsonl')
    totals = json.loads((FIXTURES / f'{capture}.expected.json').read_text())
    check_node_capture(lines, totals, aggregator, datadog_agent)
