# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Label clean-up of a scraped metric family, before the base class turns samples into submissions.

A family keeps the labels of `DEFAULT_LABELS` and those the user listed in `high_cardinality_labels`
(see `metrics.py` for why); every other label is dropped. Dropping a label can make two samples
identical (packets from `direction="incoming"` and `direction="outgoing"`). The base
`exclude_labels` option would then submit both under one context, and the Agent would read the
second counter value as a reset of the first. So the samples are summed here: right for counters,
histogram buckets (per `le`, so the merged histogram stays cumulative), and the gauges that have
such labels (calls active per remote host, worker load per process).
"""

from datadog_checks.base.utils.tagging import GENERIC_TAGS

from .metrics import DEFAULT_LABELS, SERVICE_LABEL_RENAMES

# Labels that are part of a sample's identity, never tags: histogram bucket bounds, summary quantiles.
STRUCTURAL_LABELS = frozenset(('le', 'quantile'))


def label_renames(family_name):
    """Reserved tag names (`service`, `env`, `version`, ...) become LiveKit-specific names."""
    renames = {label: 'livekit_{}'.format(label) for label in GENERIC_TAGS}
    for prefix, new_name in SERVICE_LABEL_RENAMES:
        if family_name.startswith(prefix):
            renames['service'] = new_name
    return renames


class LabelCleaner:
    def __init__(self, opted_in_labels=()):
        self.opted_in_labels = frozenset(opted_in_labels) | STRUCTURAL_LABELS
        self._rules = {}

    def __call__(self, metric):
        kept, renames = self.rules(metric.name)
        untouched = (kept.issuperset(s.labels) and renames.keys().isdisjoint(s.labels) for s in metric.samples)
        if all(untouched):
            return metric  # nothing to drop or rename

        merged = {}
        for sample in metric.samples:
            labels = {renames.get(name, name): value for name, value in sample.labels.items() if name in kept}
            key = (sample.name, tuple(sorted(labels.items())))
            previous = merged.get(key)
            if previous is None:
                merged[key] = sample._replace(labels=labels)
            else:
                merged[key] = previous._replace(value=previous.value + sample.value)
        metric.samples = list(merged.values())
        return metric

    def rules(self, family_name):
        """(labels kept, {label: tag name}) of a family, computed once per family."""
        rules = self._rules.get(family_name)
        if rules is None:
            kept = self.opted_in_labels.union(DEFAULT_LABELS.get(family_name, ()))
            rules = self._rules[family_name] = (kept, label_renames(family_name))
        return rules
