# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""What `livekit-datadog assets import` would create or update (`livekit-datadog assets plan`), derived
from the asset files alone: offline, no keys.

The metric tag configurations are the billable part. Datadog bills a distribution 5 series (count, sum,
min, max, avg) per value combination of its queryable tags, and with percentiles 5 more per value
combination of every subset of them (see `series.billable_series`). So percentiles go only on the
metrics that an asset reads at a percentile (`p95:livekit.x{...}`, or any metric of a
`percentile(...)` monitor), and only the tags that the assets read on that metric stay queryable:

- every tag a query of that metric groups by (`by {model}`) or filters by (`model:gpt-4o`,
  `reason IN (...)`, or a template variable such as `$agent_name`, which filters by the tag named in
  the dashboard's `template_variables` `prefix`);
- from every query of that metric, not only its percentile ones: a tag configuration decides which
  tags are queryable for every aggregation of the metric, so an `avg:` query that filters by a tag
  left out of the configuration would come back empty once the configuration exists;
- nothing else. Datadog needs no tag of its own to compute percentiles; `host` is queryable only
  where an asset reads it (each tag with a single value still doubles the percentile series).
"""
from .validate import metric_reads, template_variable_tags

METRIC_TYPE = 'distribution'
# `assets plan --json` prints one object with these keys, always all three, in this order.
PLAN_KEYS = ('dashboards', 'monitors', 'metric_tag_configurations')
CONFIGURATION_KEYS = ('metric', 'metric_type', 'include_percentiles', 'tags')


def asset_reads(bundle):
    """(asset, MetricRead, template variable tags) for every metric read by a dashboard widget or a
    metric monitor of `bundle` (an `assets.AssetBundle`)."""
    from .validate import dashboard_metric_queries

    for name, dashboard in bundle.dashboards:
        variables = template_variable_tags(dashboard)
        for where, query in dashboard_metric_queries(dashboard):
            for read in metric_reads(query):
                yield '{}: {}'.format(name, where), read, variables
    for name, asset in bundle.monitors:
        definition = asset.get('definition') or {}
        if definition.get('type') == 'service check':
            continue
        for read in metric_reads(definition.get('query', '')):
            yield name, read, {}


def metric_tag_configurations(bundle):
    """The tag configurations `assets import --enable-percentiles` applies, sorted by metric: one per
    metric read at a percentile, with the tags every read of that metric uses (see the module doc)."""
    reads = list(asset_reads(bundle))
    percentile_metrics = {read.metric for _, read, _ in reads if read.percentile}
    tags = {metric: set() for metric in percentile_metrics}
    for _, read, variables in reads:
        if read.metric in tags:
            tags[read.metric] |= read.tag_keys(variables)
    return [
        {'metric': metric, 'metric_type': METRIC_TYPE, 'include_percentiles': True, 'tags': sorted(tags[metric])}
        for metric in sorted(tags)
    ]


def build_plan(bundle, enable_percentiles=False):
    """What `assets import [--enable-percentiles]` creates or updates, as `assets plan --json` prints it:
    {"dashboards": [title], "monitors": [name], "metric_tag_configurations": [{"metric", "metric_type",
    "include_percentiles", "tags"}]} (the configurations empty without `enable_percentiles`)."""
    return {
        'dashboards': [dashboard.get('title') for _, dashboard in bundle.dashboards],
        'monitors': [asset.get('definition', {}).get('name') for _, asset in bundle.monitors],
        'metric_tag_configurations': metric_tag_configurations(bundle) if enable_percentiles else [],
    }


def format_plan(plan, enable_percentiles):
    """The plan as readable tables."""
    lines = ['Dashboards ({}), created or updated by title:'.format(len(plan['dashboards']))]
    lines += ['  ' + title for title in plan['dashboards']]
    lines += ['', 'Monitors ({}), created or updated by name:'.format(len(plan['monitors']))]
    lines += ['  ' + name for name in plan['monitors']]
    lines.append('')
    configurations = plan['metric_tag_configurations']
    if not enable_percentiles:
        lines.append('Metric tag configurations: none (with --enable-percentiles: percentiles on the metrics ')
        lines.append('that a widget or monitor reads at a percentile, with only the tags the assets read queryable)')
        return '\n'.join(lines)
    lines.append(
        'Metric tag configurations ({}): percentiles on, only these tags queryable (billed: 5 series per '
        'value combination of the tags, plus 5 per value combination of every subset of them):'.format(
            len(configurations)
        )
    )
    rows = [('metric', 'type', 'percentiles', 'queryable tags')] + [
        (c['metric'], c['metric_type'], 'on' if c['include_percentiles'] else 'off', ', '.join(c['tags']) or '(none)')
        for c in configurations
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        lines.append('  ' + '  '.join(cell.ljust(width) for cell, width in zip(row, widths)) + '  ' + row[3])
    return '\n'.join(lines)
