# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Latency distributions: a percentile read from the submitted buckets is within 5 % of the truth."""

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadog_checks.livekit.distributions import Distributions, bucket_bounds, bucket_index, count_into

from .log_helpers import Check, buckets_by_context, datadog_quantile


def exact_quantile(values, q):
    """The value at rank q * (n - 1), the rank Datadog's sketch reads."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def samples(kind, rng, n):
    if kind == 'lognormal':
        return [rng.lognormvariate(-1.5, 0.8) for _ in range(n)]
    if kind == 'uniform':
        return [rng.uniform(0.05, 3.0) for _ in range(n)]
    if kind == 'exponential':
        return [rng.expovariate(4.0) for _ in range(n)]
    if kind == 'rounded':
        # LiveKit rounds ttft and EOU delays to 0.01 s, so many values repeat exactly
        return [round(rng.lognormvariate(-2.0, 0.6), 2) for _ in range(n)]
    if kind == 'with_zeros':
        return [0.0 if rng.random() < 0.3 else rng.uniform(0.001, 0.5) for _ in range(n)]
    if kind == 'wide':
        return [10 ** rng.uniform(-6, 5) for _ in range(n)]
    if kind == 'bimodal':
        return [rng.gauss(0.2, 0.01) if rng.random() < 0.9 else rng.gauss(2.5, 0.3) for _ in range(n)]
    raise AssertionError(kind)


@pytest.mark.parametrize('kind', ['lognormal', 'uniform', 'exponential', 'rounded', 'with_zeros', 'wide', 'bimodal'])
@pytest.mark.parametrize('seed', range(5))
def test_percentiles_read_from_buckets_are_within_5_percent(aggregator, kind, seed):
    rng = random.Random(f'{kind}/{seed}')
    values = [abs(v) for v in samples(kind, rng, rng.randint(20, 5000))]
    distributions = Distributions()
    for value in values:
        distributions.add('llm.ttft', ('model:m',), value)
    distributions.submit(Check('livekit', {}, [{}]), ('env_tag:x',))

    ((tags, buckets),) = buckets_by_context(aggregator, 'livekit.llm.ttft').items()
    assert sorted(tags) == ['env_tag:x', 'model:m']
    assert sum(count for _, _, count in buckets) == len(values)
    for q in (0.5, 0.95, 0.99):
        true = exact_quantile(values, q)
        estimate = datadog_quantile(buckets, q)
        assert abs(estimate - true) <= 0.05 * true, (q, true, estimate)


def test_buckets_are_at_most_4_percent_wide_and_contain_their_values():
    rng = random.Random(7)
    for value in [10 ** rng.uniform(-9, 6) for _ in range(20000)] + [0.01, 0.1, 1.0, 10.0, 0.25, 1e6]:
        lower, upper = bucket_bounds(bucket_index(value))
        assert (upper - lower) / lower <= 0.04
        # floating point may put a value a few ulps past a bound
        assert lower * (1 - 1e-12) <= value <= upper * (1 + 1e-12)


def test_zero_has_its_own_bucket():
    assert bucket_bounds(bucket_index(0.0)) == (0.0, 0.0)
    assert bucket_bounds(bucket_index(0)) == (0.0, 0.0)


def test_buckets_are_submitted_without_bound_tags_and_not_monotonic(aggregator):
    distributions = Distributions()
    for value in (0.0, 0.12, 0.12, 0.5):
        distributions.add('tts.ttfb', ('provider:p',), value)
    distributions.submit(Check('livekit', {}, [{}]))

    stubs = aggregator.histogram_bucket('livekit.tts.ttfb')
    assert sorted((s.lower_bound, s.value) for s in stubs) == [
        (0.0, 1),
        (bucket_bounds(bucket_index(0.12))[0], 2),
        (bucket_bounds(bucket_index(0.5))[0], 1),
    ]
    for stub in stubs:
        assert stub.monotonic is False
        assert stub.tags == ['provider:p']
        # non-monotonic buckets need no `multiple_buckets`: every Agent places them by their bounds
        assert stub.multiple_buckets is False


def test_submission_starts_over(aggregator):
    distributions = Distributions()
    distributions.add('llm.ttft', (), 0.3)
    check = Check('livekit', {}, [{}])
    distributions.submit(check)
    distributions.submit(check)
    assert len(aggregator.histogram_bucket('livekit.llm.ttft')) == 1


@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.just(0),
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
            st.integers(min_value=0, max_value=10**6),
        )
    )
)
def test_values_bucketed_a_list_at_a_time_land_where_bucket_index_puts_each(values):
    counts = Counter({7: 1})
    count_into(counts, values)
    assert counts == Counter(map(bucket_index, values)) + Counter({7: 1})


def test_values_are_bucketed_when_folded_and_memory_is_given_back(aggregator):
    distributions = Distributions()
    pending = distributions.values('llm.ttft', ())
    pending.extend([0.5] * 1000)
    distributions.fold()
    assert pending == []
    distributions.add('llm.ttft', (), 0.5)
    distributions.submit(Check('livekit', {}, [{}]))
    ((_, buckets),) = buckets_by_context(aggregator, 'livekit.llm.ttft').items()
    assert [count for _, _, count in buckets] == [1001]
