# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The Node companion (`livekit-plugins-datadog-node`) through the check: the committed log of a real
@livekit/agents 1.9.0 worker whose ten sessions ran with the companion
(`fixtures/logs/node-1.9.0-companion.jsonl`, next to LiveKit's own totals recorded inside the job
processes), fed to `LogPipeline`. Every number must equal LiveKit's: the app also calls
`metrics.logMetrics()`, so every request has a stock line next to its record and none may count twice.
"""

import copy
import json
import time
from collections import Counter

import jsonschema
import pytest

from datadog_checks.livekit.distributions import bucket_bounds, bucket_index
from datadog_checks.livekit.logs.pipeline import LogPipeline

from .log_helpers import (
    FIXTURES,
    assert_submissions_follow_metadata,
    bucket_counts,
    make_check,
    metric_total,
    read_lines,
    totals_by_tag,
)

REPO = FIXTURES.parents[3]
LOG = FIXTURES / 'node-1.9.0-companion.jsonl'
TOTALS = FIXTURES / 'node-1.9.0-companion.totals.json'
MIN_TURNS = 3
# what Node logs, and emits no error event for: a failed TTS or STT attempt that is retried
RETRY_LINES = {
    'tts': ('failed to generate TTS completion, retrying in ', 'failed to synthesize speech, retrying in '),
    'stt': ('failed to recognize speech, retrying in ',),
}


@pytest.fixture(scope='module')
def capture():
    return read_lines(LOG), json.loads(TOTALS.read_text())


def _run(lines, aggregator, datadog_agent):
    """A fresh pipeline over the whole log, flushed twice (the second a day later: nothing may be
    left open by the idle timeout, every conversation ends at its companion record)."""
    aggregator.reset()
    datadog_agent.reset()
    check = make_check()
    pipeline = LogPipeline(min_conversation_turns=MIN_TURNS)
    pipeline.feed(lines)
    now = time.time()
    pipeline.flush(check, now)
    pipeline.flush(check, now + 86400)
    return check


def _objects(totals, kind):
    return [e['metrics'] for job in totals['jobs'].values() for e in job['logged_metrics'] if e['metrics']['type'] == kind]


def _expected_buckets(values):
    """{lower bound: count} of the check's fixed buckets (distributions.py) for `values`."""
    return Counter(bucket_bounds(bucket_index(value))[0] for value in values)


def test_the_fixture_is_a_companion_capture(capture):
    """What the check's side relies on, true of the committed log today."""
    lines, totals = capture
    decoded = [json.loads(line) for line in lines]
    assert totals['sdk_version'] == '1.9.0' and totals['language'] == 'node'
    records = [r for r in decoded if str(r.get('msg')).startswith('livekit.datadog ')]
    assert {r['jobID'] for r in records} == set(totals['jobs'])
    assert all(r['livekit.schema'] == 1 and r['name'] == 'livekit.plugins.datadog' for r in records)
    for job_id in totals['jobs']:
        job_lines = [r for r in decoded if r.get('jobID') == job_id]
        first_metrics = next(i for i, r in enumerate(job_lines) if str(r.get('msg')).endswith(' metrics'))
        assert job_lines[0]['msg'] == 'livekit.datadog session_start'
        assert 0 < first_metrics
    # the fields of every record follow the schema of its event (docs/companion-records.schema.json,
    # written for the Python records: `language` there is `python`, the pino header keys differ)
    schema = json.loads((REPO / 'docs' / 'companion-records.schema.json').read_text())
    for record in records:
        definition = copy.deepcopy(schema['$defs'][record['livekit.event']])
        definition['properties'].pop('message', None)
        definition['properties'].pop('language', None)
        definition['required'] = [key for key in definition.get('required', []) if key != 'language']
        definition['$defs'] = schema.get('$defs', {})
        jsonschema.validate({k: v for k, v in record.items() if k != 'language'}, definition)
        assert record.get('language', 'node') == 'node'
    # stock lines of every request are in the log too
    assert sum(1 for r in decoded if r.get('msg') == 'LLM metrics') == len(_objects(totals, 'llm_metrics'))


def test_node_companion_jobs_through_the_check_match_livekit(capture, aggregator, datadog_agent):
    lines, totals = capture
    check = _run(lines, aggregator, datadog_agent)
    overall, jobs = totals['overall'], totals['jobs']
    decoded = [json.loads(line) for line in lines]

    # requests and tokens, each once although the stock `LLM metrics` line is there too; Node also
    # reports a request with no response after its retries (`ttftMs` -1, no tokens): not a success
    llm = [m for m in _objects(totals, 'llm_metrics') if m['ttftMs'] >= 0 or m['promptTokens'] or m['completionTokens']]
    assert metric_total(aggregator, 'livekit.llm.requests') == len(llm)
    assert len(llm) == overall['metrics_counts']['llm_metrics'] - overall['errors']['llm_error']['unrecoverable']
    assert metric_total(aggregator, 'livekit.llm.tokens.input') == overall['tokens']['prompt']
    assert metric_total(aggregator, 'livekit.llm.tokens.output') == overall['tokens']['completion']
    assert metric_total(aggregator, 'livekit.llm.tokens.cached') == overall['tokens']['cached']
    tts, stt = _objects(totals, 'tts_metrics'), _objects(totals, 'stt_metrics')
    assert metric_total(aggregator, 'livekit.tts.requests') == len(tts)
    assert metric_total(aggregator, 'livekit.stt.requests') == len(stt)
    # what only the companion gives: TTS characters, request durations, exact (unrounded) audio
    assert metric_total(aggregator, 'livekit.tts.characters') == sum(m['charactersCount'] for m in tts)
    assert metric_total(aggregator, 'livekit.tts.audio_duration') == pytest.approx(
        sum(m['audioDurationMs'] for m in tts) / 1000
    )
    assert metric_total(aggregator, 'livekit.stt.audio_duration') == pytest.approx(
        sum(m['audioDurationMs'] for m in stt) / 1000
    )
    assert bucket_counts(aggregator, 'livekit.llm.duration') == _expected_buckets(m['durationMs'] / 1000 for m in llm)
    assert bucket_counts(aggregator, 'livekit.tts.ttfb') == _expected_buckets(
        m['ttfbMs'] / 1000 for m in tts if m['ttfbMs'] != -1  # -1: no audio came (a TTS call that gave up)
    )

    # errors by kind: every LLM attempt is an error event (record); a TTS or STT call that gives up
    # is an error event only Node never logs; its retried attempts are only the worker's retry lines
    errors = overall['errors']
    assert totals_by_tag(aggregator, 'livekit.llm.errors', 'recoverable') == {
        'true': errors['llm_error']['recoverable'],
        'false': errors['llm_error']['unrecoverable'],
    }
    assert overall['failed_attempts']['llm'] == sum(errors['llm_error'].values())
    for kind in ('tts', 'stt'):
        retries = sum(1 for r in decoded if r['level'] == 40 and str(r.get('msg')).startswith(RETRY_LINES[kind]))
        give_ups = errors[f'{kind}_error']['unrecoverable']
        assert give_ups >= 1 and errors[f'{kind}_error']['recoverable'] == 0
        assert retries + give_ups == overall['failed_attempts'][kind]
        assert totals_by_tag(aggregator, f'livekit.{kind}.errors', 'recoverable') == {
            'true': retries,
            'false': give_ups,
        }

    # turns from session.history, conversations ended at their record with LiveKit's close reason
    assert metric_total(aggregator, 'livekit.turns.user') == overall['user_turns']
    assert metric_total(aggregator, 'livekit.conversations.started') == overall['conversations']
    assert totals_by_tag(aggregator, 'livekit.conversations.ended', 'close_reason') == overall['close_reasons']
    short = {job_id: job for job_id, job in jobs.items() if job['user_turns'] < MIN_TURNS}
    assert metric_total(aggregator, 'livekit.conversations.short') == len(short) > 0
    assert {r['job_id']: (r['turns'], r['close_reason'], r['language']) for r in check.logs_sent} == {
        job_id: (job['user_turns'], job['close_reason'], 'node') for job_id, job in short.items()
    }
    assert_submissions_follow_metadata(aggregator)
