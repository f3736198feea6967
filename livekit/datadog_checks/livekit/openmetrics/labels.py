# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Label clean-up of a scraped metric family, before the base class turns samples into submissions.

Dropping a label can make two samples identical (packets from `country="US"` and `country="DE"`).
The base `exclude_labels` option would then submit both under one context, and the Agent would
read the second counter value as a reset of the first. So the samples are summed here: right for
counters, histogram buckets, and the gauges that have such labels (calls active per remote host,
worker load per process).
"""

from datadog_checks.base.utils.tagging import GENERIC_TAGS

from .metrics import SERVICE_LABEL_RENAMES


def label_renames(family_name):
    """Reserved tag names (`service`, `env`, `version`, ...) become LiveKit-specific names."""
    renames = {label: 'livekit_{}'.format(label) for label in GENERIC_TAGS}
    for prefix, new_name in SERVICE_LABEL_RENAMES:
        if family_name.startswith(prefix):
            renames['service'] = new_name
    return renames


class LabelCleaner:
    def __init__(self, dropped_labels):
        self.dropped_labels = frozenset(dropped_labels)
        self._affected = {}

    def __call__(self, metric):
        renames, affected = self._rules(metric.name)
        if all(affected.isdisjoint(sample.labels) for sample in metric.samples):
            return metric

        merged = {}
        for sample in metric.samples:
            labels = {
                renames.get(name, name): value
                for name, value in sample.labels.items()
                if name not in self.dropped_labels
            }
            key = (sample.name, tuple(sorted(labels.items())))
            previous = merged.get(key)
            if previous is None:
                merged[key] = sample._replace(labels=labels)
            else:
                merged[key] = previous._replace(value=previous.value + sample.value)
        metric.samples = list(merged.values())
        return metric

    def _rules(self, family_name):
        rules = self._affected.get(family_name)
        if rules is None:
            renames = label_renames(family_name)
            rules = self._affected[family_name] = (renames, self.dropped_labels | renames.keys())
        return rules
