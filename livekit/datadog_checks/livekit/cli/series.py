# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""How many custom-metric series Datadog bills for what the check submits, under a plan's metric tag
configurations (Datadog's rules: `account_management/billing/custom_metrics`, Metrics without Limits).

Pure Python, no dependency: `bench/` imports it to compute the README cost table from real submissions.
"""
from itertools import combinations

SERIES_PER_DISTRIBUTION = 5  # count, sum, min, max, avg
SERIES_PER_PERCENTILE_COMBINATION = 5  # p50, p75, p90, p95, p99
SINGLE_SERIES_TYPES = frozenset(('gauge', 'count', 'rate', 'monotonic_count'))


def series_by_metric(contexts, plan=None):
    """{metric: billable series} for `contexts` under `plan`. See `billable_series`."""
    configurations = _configurations(plan)
    by_metric = {}
    for metric, metric_type, tags in contexts:
        by_metric.setdefault((metric, metric_type), set()).add(frozenset(tags))
    series = {}
    for (metric, metric_type), tag_sets in sorted(by_metric.items()):
        configuration = configurations.get(metric)
        series[metric] = series.get(metric, 0) + _series(metric_type, tag_sets, configuration)
    return series


def billable_series(contexts, plan=None):
    """The number of series Datadog bills for `contexts` under `plan`.

    contexts: an iterable (a set) of `(metric, metric_type, tags)`, one per context the check submits
        over the period of interest: `metric` the full name (`livekit.llm.ttft`); `metric_type` one of
        `gauge`, `count`, `rate`, `monotonic_count` (1 series per unique tag combination) or
        `distribution` (histogram buckets sent with `submit_histogram_bucket` become one; the
        aggregator stub's `histogram_bucket` entries are distributions); `tags` an iterable of
        `key:value` strings (a tag without `:` is its own key). Give the tags as Datadog stores them:
        add the ones the Agent attaches (`host:<hostname>`, which the stub keeps apart as `hostname`,
        and `service:<name>` from the instance or the pod), leave out histogram bound tags (there are
        none with `submit_histogram_bucket`). Repeated contexts count once.
    plan: what `plan.build_plan` returns (`assets plan --json`), or its `metric_tag_configurations`
        list, or None (no configuration). A configured metric counts only its queryable tags
        (`tags`, an allow-list): two contexts that differ only in other tags are one series.

    Counted per metric:
    - gauge, count, rate: 1 per unique combination of its queryable tags (unconfigured: all its tags);
    - distribution: 5 per unique combination of its queryable tags (unconfigured: all its tags);
    - a distribution whose configuration has `include_percentiles`: plus 5 per unique value
      combination of every subset of its queryable tags, the empty subset included (one combination
      when any context exists); a context that lacks a tag of the subset counts with the tags it has.

    Returns an int; `series_by_metric` gives the same count per metric.
    """
    return sum(series_by_metric(contexts, plan).values())


def _configurations(plan):
    if plan is None:
        return {}
    if isinstance(plan, dict):
        plan = plan.get('metric_tag_configurations', [])
    return {configuration['metric']: configuration for configuration in plan}


def _project(tags, keys):
    return frozenset(tag for tag in tags if tag.split(':', 1)[0] in keys)


def _series(metric_type, tag_sets, configuration):
    if metric_type not in SINGLE_SERIES_TYPES and metric_type != 'distribution':
        raise ValueError('unknown metric type {!r}'.format(metric_type))
    if configuration is not None:
        keys = frozenset(configuration.get('tags') or ())
        tag_sets = {_project(tags, keys) for tags in tag_sets}
    if metric_type in SINGLE_SERIES_TYPES:
        return len(tag_sets)
    series = SERIES_PER_DISTRIBUTION * len(tag_sets)
    if configuration is not None and configuration.get('include_percentiles'):
        keys = sorted(keys)
        for size in range(len(keys) + 1):
            for subset in combinations(keys, size):
                combos = {_project(tags, subset) for tags in tag_sets}
                series += SERIES_PER_PERCENTILE_COMBINATION * len(combos)
    return series
