# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""What the lines of a run add up to, until `Accumulator.submit` hands it to the check.

Counts are summed per tag set (`Series`); latencies go out as distribution buckets
(`distributions.py`); short-conversation records go out with `send_log`.
"""

from collections import defaultdict

from ..distributions import Distributions
from .formats import BY_LEVEL_TYPE


class Series:
    """What one tag set accumulates until the next flush: sums and latencies by metric name.

    Keyed by name alone, an accumulation costs a fraction of one keyed by (name, tags).
    """

    __slots__ = ('tags', 'counts', 'latencies')

    def __init__(self, tags, distributions):
        self.tags = tags
        # defaultdicts: `counts[name] += value` needs no method call
        self.counts = defaultdict(int)
        # metric name -> the list of its values in `distributions`: `latencies[name].append(value)`
        # records one latency (a finite value >= 0) without a Python call
        self.latencies = _Latencies(tags, distributions)


class _Latencies(dict):
    __slots__ = ('tags', 'distributions')

    def __init__(self, tags, distributions):
        self.tags = tags
        self.distributions = distributions

    def __missing__(self, name):
        values = self[name] = self.distributions.values(name, self.tags)
        return values


class Accumulator:
    """Series per tag set, the line counters, distributions and records of one run.

    `levels`, `error_loggers` and `unparsed` are counters the line loop adds to directly.
    """

    def __init__(self, tags, log):
        # the instance tags, on every submission
        self.tags = tuple(tags)
        self.log = log
        self._start_over()

    def _start_over(self):
        # tags -> Series, and the shortcut to it from what the tags are made of
        self._series_by_tags = {}
        self._series_cache = {}
        # level -> lines (its type tells the format: a tuple key costs twice as much)
        self.levels = defaultdict(int)
        # (language, logger) -> error lines
        self.error_loggers = defaultdict(int)
        # reason -> lines
        self.unparsed = defaultdict(int)
        self.distributions = Distributions()
        # short-conversation records for `send_log`
        self.records = []

    def series(self, agent_name, model, provider, language, extra=None):
        """The accumulator of a tag set: language, agent name, model, provider and an optional extra tag
        (or a tuple of extra tags)."""
        key = (agent_name, model, provider, language, extra)
        series = self._series_cache.get(key)
        if series is None:
            tags = [f'language:{language}']
            if agent_name:
                tags.append(f'agent_name:{agent_name}')
            if model:
                tags.append(f'model:{model}')
            if provider:
                tags.append(f'provider:{provider}')
            if type(extra) is tuple:
                tags.extend(extra)
            elif extra:
                tags.append(extra)
            tags = tuple(tags)
            # different keys can make the same tags ('' and None): one series, one submission
            series = self._series_by_tags.get(tags)
            if series is None:
                series = self._series_by_tags[tags] = Series(tags, self.distributions)
            self._series_cache[key] = series
        return series

    def fold(self):
        """Bucket the latencies recorded so far, so that memory stays bounded between two flushes."""
        self.distributions.fold()

    def submit(self, check):
        """Hand everything accumulated to the check, then the records.

        The accumulator starts over before anything is handed to the Agent: a call that raises (an
        Agent without the `send_log` builtin, say) can lose this run's records, never count them
        again in the next run.
        """
        series_by_tags, levels, error_loggers, unparsed = (
            self._series_by_tags,
            self.levels,
            self.error_loggers,
            self.unparsed,
        )
        distributions, records = self.distributions, self.records
        self._start_over()

        base = self.tags
        for tags, series in series_by_tags.items():
            for name, value in series.counts.items():
                check.count(name, value, tags=[*base, *tags])
        for level, value in levels.items():
            fmt = BY_LEVEL_TYPE[type(level)]
            level_tag = fmt.level_tags.get(level, 'other')
            check.count('log.lines', value, tags=[*base, f'level:{level_tag}', f'language:{fmt.language}'])
        for (language, logger), value in error_loggers.items():
            tags = [*base, f'language:{language}']
            if logger:
                tags.append(f'logger:{logger[:100]}')
            check.count('log.errors', value, tags=tags)
        for reason, value in unparsed.items():
            check.count('log.unparsed', value, tags=[*base, f'reason:{reason}'])
        distributions.submit(check, base)
        self._send_records(check, records)

    def _send_records(self, check, records):
        failed, reason = 0, None
        for record in records:
            try:
                check.send_log(record)
            except Exception as e:
                failed += 1
                reason = reason or '{}: {}'.format(type(e).__name__, e)
        if failed:
            self.log.warning(
                'Could not send %d of %d LiveKit short-conversation record(s) to the Agent (%s); their metrics '
                'were submitted. Log records from a check need an Agent with integration log collection: '
                'logs_enabled: true and a `logs: - type: integration` entry in conf.yaml',
                failed,
                len(records),
                reason,
            )
