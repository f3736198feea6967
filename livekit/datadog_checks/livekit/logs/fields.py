# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Typed reads of the known fields of a decoded log line.

One rule for every known field, so a corrupt line can never corrupt a total:
- absent or `null` means "not reported" (Node writes NaN and undefined numbers as `null`);
- any other wrong value (a string, a bool, a list, NaN or infinity written by Python's json,
  a negative number, a count above `MAX_COUNT`, a duration above `MAX_SECONDS`, a fractional
  token count) raises `BadValue`, and the caller drops the whole event: the line still counts
  in `livekit.log.lines`, and in `livekit.log.unparsed` with `reason:bad_value`.
"""

from datetime import UTC, datetime

# Far above any real request (the largest context windows are a few million tokens) and far
# below what would swamp a total.
MAX_COUNT = 10**9
# About 11 days: longer than any conversation or audio stream a single line reports.
MAX_SECONDS = 1e6
# Tag values and record strings are cut to this length.
MAX_TEXT = 200
# Line times outside 2000-01-01 .. 2200-01-01 are not believed.
EARLIEST_TIME = 946684800.0
LATEST_TIME = 7258118400.0


class BadValue(Exception):
    """A known field holds a value of the wrong type or outside its range."""


def count(obj, key):
    """A non-negative integer count (tokens, interruptions); 0 when not reported."""
    value = obj.get(key)
    if value is None:
        return 0
    kind = type(value)
    if kind is int:
        if 0 <= value <= MAX_COUNT:
            return value
    elif kind is float and value.is_integer() and 0 <= value <= MAX_COUNT:
        return int(value)
    raise BadValue(key)


# equal to no value, and compared faster than None with a number: the default of `not_reported`
_NOTHING = float('nan')


def seconds(obj, key, scale=1.0, not_reported=_NOTHING):
    """A duration in seconds (`scale` converts milliseconds); None when not reported.

    `not_reported` is a value that also means "not reported" (`NO_LATENCY`).
    """
    value = obj.get(key)
    if value is None or value == not_reported:
        return None
    kind = type(value)
    if kind is float or kind is int:
        value *= scale
        # NaN fails both comparisons
        if 0 <= value <= MAX_SECONDS:
            return float(value)
    raise BadValue(key)


# LiveKit's ttft / ttfb of a request with no first token or byte: `seconds(obj, key, scale, NO_LATENCY)`
NO_LATENCY = -1


def rate(obj, key):
    """A non-negative finite rate (tokens per second); None when not reported."""
    value = obj.get(key)
    if value is None:
        return None
    kind = type(value)
    if (kind is float or kind is int) and 0 <= value <= MAX_COUNT:
        return float(value)
    raise BadValue(key)


def text(obj, key):
    """A string field (model, provider, label, reason); None when not reported."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str:
        return value[:MAX_TEXT]
    raise BadValue(key)


def flag(obj, key):
    """A boolean field; None when not reported."""
    value = obj.get(key)
    if value is None or type(value) is bool:
        return value
    raise BadValue(key)


def derived_duration(output_tokens, tokens_per_second):
    """Request duration from LiveKit's own `tokens_per_second = completion_tokens / duration`."""
    if output_tokens and tokens_per_second:
        duration = output_tokens / tokens_per_second
        if duration <= MAX_SECONDS:
            return duration
    return None


def epoch_seconds(value):
    """A line's time as epoch seconds: Python's ISO-8601 `timestamp`, or Node's epoch-ms `time`."""
    kind = type(value)
    if kind is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    elif kind is int or kind is float:
        seconds = value / 1000
    else:
        return None
    # NaN fails the comparison; the bounds keep garbage out of durations
    return seconds if EARLIEST_TIME <= seconds <= LATEST_TIME else None
