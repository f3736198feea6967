# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""One measured reader per process: `python bench/workers.py <reader> <file> [max_bytes_per_run]`.

Prints one JSON object (lines read, bytes, runs, what else the reader knows). The parent process
measures time and peak memory of this process from outside (`os.wait4`), so that each reader's
peak RSS is its own.
"""

import json
import sys
import time


def naive(path):
    """What a first attempt looks like: readline and the standard json module, line by line."""
    lines = bytes_read = 0
    with open(path, 'rb') as f:
        for line in f:
            json.loads(line)
            lines += 1
            bytes_read += len(line)
    return {'lines': lines, 'bytes': bytes_read}


def naive_orjson(path):
    """The same loop with orjson, the parser the check uses: the loop itself, not JSON, is the cost."""
    import orjson

    lines = bytes_read = 0
    with open(path, 'rb') as f:
        for line in f:
            orjson.loads(line)
            lines += 1
            bytes_read += len(line)
    return {'lines': lines, 'bytes': bytes_read}


def _tailer(path, max_bytes_per_run, state=None):
    """A tailer of `path` from its beginning, restored from `state` (None: the very first run)."""
    from datadog_checks.livekit.logs.tailer import LogTailer, TailerOptions

    tailer = LogTailer([path], TailerOptions(start_position='beginning', max_bytes_per_run=max_bytes_per_run))
    tailer.restore(state)
    return tailer


def tailer(path, max_bytes_per_run):
    """The tailer and its framing alone: every line is delivered, none is parsed."""
    t = _tailer(path, max_bytes_per_run)
    lines = bytes_read = runs = 0
    rejected = {}
    while True:
        runs += 1
        for batch in t.poll():
            lines += len(batch.lines)
        bytes_read += t.stats.bytes_read
        for reason, n in t.stats.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + n
        if t.stats.backlog_bytes == 0:
            break
    return {'lines': lines, 'bytes': bytes_read, 'runs': runs, 'rejected': rejected}


class _Sink:
    """Stands for the Agent's aggregator: takes what a check submits and keeps a count of it."""

    def __init__(self):
        self.submissions = 0

    def _take(self, *args, **kwargs):
        self.submissions += 1

    count = gauge = monotonic_count = histogram = submit_histogram_bucket = send_log = service_check = _take


def _check():
    """A real AgentCheck (its submission code runs) on the test stubs of the Agent, and a function
    that empties the stubs after a run, as the Agent takes what a run submits; else a plain sink."""
    try:
        from datadog_checks.base import AgentCheck
        from datadog_checks.base.stubs import aggregator, datadog_agent

        def taken():
            aggregator.reset()
            datadog_agent.reset()

        return AgentCheck('livekit', {}, [{}]), taken
    except Exception:  # the bench must run even if the base package changes
        return _Sink(), lambda: None


def full(path, max_bytes_per_run):
    """Everything the check does with agent logs, run after run: tail, frame, parse, submit."""
    from datadog_checks.livekit.logs.pipeline import LogPipeline

    t = _tailer(path, max_bytes_per_run)
    pipeline = LogPipeline()
    check, taken = _check()
    lines = bytes_read = runs = 0
    most = 0
    while True:
        runs += 1
        for batch in t.poll():
            pipeline.feed(batch.lines)
            lines += len(batch.lines)
        pipeline.flush(check, time.time())
        taken()
        bytes_read += t.stats.bytes_read
        most = max(most, t.stats.bytes_read)
        if t.stats.backlog_bytes == 0:
            break
    return {'lines': lines, 'bytes': bytes_read, 'runs': runs, 'most_bytes_in_a_run': most}


def burst(path, max_bytes_per_run):
    """A backlog of several runs, with the Agent restarting the check between every two runs: each run
    is a new tailer restored from the state the previous one saved (as JSON, as in the persistent cache)."""
    state = None
    lines = bytes_read = runs = most = 0
    while True:
        runs += 1
        t = _tailer(path, max_bytes_per_run, state)
        for batch in t.poll():
            lines += len(batch.lines)
        bytes_read += t.stats.bytes_read
        most = max(most, t.stats.bytes_read)
        state = json.loads(json.dumps(t.dump_state()))
        if t.stats.backlog_bytes == 0:
            break
    return {'lines': lines, 'bytes': bytes_read, 'runs': runs, 'most_bytes_in_a_run': most}


def python(path, max_bytes_per_run):
    """The bare interpreter: the start-up of the naive readers."""
    return {'lines': 0, 'bytes': 0}


def idle(path, max_bytes_per_run):
    """The interpreter with the check's modules imported and nothing read: the floor of the RSS."""
    import datadog_checks.livekit.logs.tailer  # noqa: F401

    try:
        import datadog_checks.livekit.logs.pipeline  # noqa: F401
    except Exception:
        pass
    return {'lines': 0, 'bytes': 0}


READERS = {
    'naive': lambda path, budget: naive(path),
    'naive_orjson': lambda path, budget: naive_orjson(path),
    'tailer': tailer,
    'full': full,
    'burst': burst,
    'idle': idle,
    'python': python,
}

if __name__ == '__main__':
    name, path = sys.argv[1], sys.argv[2]
    budget = int(sys.argv[3]) if len(sys.argv) > 3 else 32 * 1024 * 1024
    print(json.dumps(READERS[name](path, budget)))
