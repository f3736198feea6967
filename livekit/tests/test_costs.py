# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Estimated cost from a real livekit-agents 1.8.9 worker's log: the check's dollars equal LiveKit's own
numbers times the prices given, per model and per conversation: the tokens of `session.usage` of each
job, and the audio of each TTS and STT metrics event as LiveKit's `log_metrics` writes it (to 0.01 s; the
usage sums the unrounded values, which no stock log carries). A model without a price is counted as
unpriced, never as zero dollars."""

import json
import time
from collections import defaultdict

import pytest

from datadog_checks.livekit.distributions import bucket_bounds, bucket_index
from datadog_checks.livekit.logs.pipeline import LogPipeline
from datadog_checks.livekit.pricing.table import PriceTable

from .log_helpers import FIXTURES, bucket_counts, make_check, read_lines, submitted_metrics

LOG = FIXTURES / 'python-1.8.9-session.jsonl'
TOTALS = json.loads((FIXTURES / 'python-1.8.9-session.totals.json').read_text())
IDLE_TIMEOUT = 600.0
# prices chosen for the test, different for every model, so that a model priced as another shows
LLM_PRICES = {
    'openai/gpt-4.1': (2.0, 0.5, 8.0),
    'openai/gpt-4o-mini': (0.15, 0.075, 0.6),
    'openai/o4-mini': (1.1, 0.275, 4.4),
    'google/gemini-2.0-flash': (0.1, 0.025, 0.4),
    'groq/llama-3.3-70b-versatile': (0.59, None, 0.79),
}
PER_MINUTE = {
    'cartesia/sonic-2': 0.031,
    'elevenlabs/eleven_flash_v2_5': 0.047,
    'openai/gpt-4o-mini-tts': 0.015,
    'deepgram/nova-3': 0.0077,
    'assemblyai/universal-streaming': 0.0025,
    'openai/gpt-4o-transcribe': 0.006,
}
# the one model the test leaves without a price: the shipped table is replaced by `only_given`
UNPRICED = ('anthropic', 'claude-3-5-haiku-latest')


def given_prices():
    prices = {}
    for key, (input_price, cached_price, output_price) in LLM_PRICES.items():
        prices[key] = {'input_per_million': input_price, 'output_per_million': output_price}
        if cached_price is not None:
            prices[key]['cached_input_per_million'] = cached_price
    for key, per_minute in PER_MINUTE.items():
        prices[key] = {'audio_per_minute': per_minute}
    return prices


def only_given(prices):
    table = PriceTable(prices)
    table.entries = {key: table.entries[key] for key in prices}
    return table


def job_costs(job):
    """{(kind, provider, model): dollars} of one job at the given prices (the unpriced model left out)."""
    costs = defaultdict(float)
    for usage in job['model_usage']:
        key = '{}/{}'.format(usage['provider'], usage['model'])
        if usage['type'] == 'llm_usage' and key in LLM_PRICES:
            input_price, cached_price, output_price = LLM_PRICES[key]
            cached = usage['input_cached_tokens']
            costs['llm', usage['provider'], usage['model']] += (
                (usage['input_tokens'] - cached) * input_price
                + cached * (input_price if cached_price is None else cached_price)
                + usage['output_tokens'] * output_price
            ) / 1e6
    for event in job['metrics_events']:
        if event['type'] in ('tts_metrics', 'stt_metrics'):
            model = event['metadata']['model_name']
            provider = event['metadata']['model_provider']
            logged_audio = round(event['audio_duration'], 2)
            costs[event['type'][:3], provider, model] += logged_audio / 60 * PER_MINUTE[f'{provider}/{model}']
    return costs


@pytest.fixture(scope='module')
def submitted():
    from datadog_checks.base.stubs import aggregator

    aggregator.reset()
    pipeline = LogPipeline(conversation_idle_timeout=IDLE_TIMEOUT, prices=only_given(given_prices()))
    check = make_check()
    lines = read_lines(LOG)
    for start in range(0, len(lines), 1000):
        pipeline.feed(lines[start : start + 1000])
    now = time.time()
    pipeline.flush(check, now)
    pipeline.flush(check, now + IDLE_TIMEOUT)
    result = {
        'metrics': [(stub.name, stub.tags, stub.value) for stub in submitted_metrics(aggregator)],
        'conversation_costs': bucket_counts(aggregator, 'livekit.conversation.cost'),
    }
    aggregator.reset()
    return result


def by_model(metrics, name):
    totals = defaultdict(float)
    for metric, tags, value in metrics:
        if metric == name:
            tags = dict(tag.split(':', 1) for tag in tags)
            totals[tags['kind'], tags.get('provider'), tags.get('model')] += value
    return dict(totals)


def test_cost_per_model_is_livekit_usage_times_the_prices(submitted):
    expected = defaultdict(float)
    for job in TOTALS['jobs'].values():
        for key, dollars in job_costs(job).items():
            expected[key] += dollars
    got = by_model(submitted['metrics'], 'livekit.cost.estimated')
    assert set(got) == set(expected)
    for key, dollars in expected.items():
        assert got[key] == pytest.approx(dollars, rel=1e-9), key
    assert len({kind for kind, _, _ in got}) == 3


def test_a_model_without_a_price_is_counted_not_free(submitted):
    requests = sum(
        count['count'] for count in TOTALS['overall']['metrics_counts']['llm'] if count['model'] == UNPRICED[1]
    )
    assert requests > 0
    unpriced = by_model_unpriced(submitted['metrics'])
    assert unpriced == {('llm', UNPRICED[1]): requests}
    assert not any(model == UNPRICED[1] for _, _, model in by_model(submitted['metrics'], 'livekit.cost.estimated'))


def by_model_unpriced(metrics):
    totals = defaultdict(int)
    for metric, tags, value in metrics:
        if metric == 'livekit.cost.unpriced':
            tags = dict(tag.split(':', 1) for tag in tags)
            totals[tags['kind'], tags.get('model')] += value
    return dict(totals)


def test_each_conversation_costs_its_own_usage(submitted):
    """One `conversation.cost` value per job: the dollars of its priced usage."""
    expected = [sum(job_costs(job).values()) for job in TOTALS['jobs'].values()]
    assert len(expected) == TOTALS['overall']['conversations']
    buckets = defaultdict(int)
    for dollars in expected:
        buckets[bucket_bounds(bucket_index(dollars))[0]] += 1
    assert submitted['conversation_costs'] == buckets
