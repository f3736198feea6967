# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The check dies mid-run and the Agent restarts it: nothing is lost, and at most the lines of the
interrupted run are counted twice (README, "What the check guarantees").

A crash is a BaseException raised at a chosen point: nothing in the check catches it, so the run stops
there as if the process had been killed. Submissions made before it stay in the aggregator stub (the
Agent had received them); the persistent cache keeps what was written before it. The restart is a new
check instance with the same check id and the same persistent cache.
"""
import pytest

from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.logs.pipeline import LogPipeline
from datadog_checks.livekit.logs.source import LogsSource
from datadog_checks.livekit.logs.tailer import LogTailer

from .log_helpers import FIXTURES

SAMPLE = FIXTURES / 'python-1.2.18.jsonl'
RUNS = 6


class Crash(BaseException):
    """The process dies here."""


def sample_lines():
    return SAMPLE.read_bytes().splitlines(keepends=True)


def new_check(log_path):
    check = LiveKitCheck('livekit', {}, [{'log_paths': [str(log_path)], 'start_position': 'beginning'}])
    check.check_id = 'livekit:crash-test'
    return check


def lines_counted(aggregator):
    return sum(stub.value for stub in aggregator.metrics('livekit.log.lines'))


def crash_after_submission(monkeypatch):
    """Between submitting the metrics and saving the offsets."""
    monkeypatch.setattr(LogsSource, '_save', lambda self: raise_crash())


def crash_while_reading(monkeypatch):
    """In the middle of reading the files: the first batch was parsed, nothing submitted yet."""
    original = LogTailer.poll

    def poll(self):
        for batch in original(self):
            yield batch
            raise_crash()

    monkeypatch.setattr(LogTailer, 'poll', poll)


def crash_while_submitting(monkeypatch):
    """Halfway through the submissions of a run."""
    original = LogPipeline.flush

    def flush(self, check, now):
        calls = {'n': 0}
        count = check.count

        def counting(*args, **kwargs):
            calls['n'] += 1
            if calls['n'] == 5:
                raise_crash()
            return count(*args, **kwargs)

        check.count = counting
        try:
            original(self, check, now)
        finally:
            del check.count

    monkeypatch.setattr(LogPipeline, 'flush', flush)


def raise_crash():
    raise Crash()


@pytest.mark.parametrize('inject', [crash_after_submission, crash_while_reading, crash_while_submitting])
@pytest.mark.parametrize('crash_run', [0, 2])
def test_a_crash_loses_nothing_and_recounts_at_most_one_run(
    tmp_path, aggregator, datadog_agent, monkeypatch, inject, crash_run
):
    lines = sample_lines()
    log_path = tmp_path / 'agent.log'
    log_path.write_bytes(b'')
    chunk = len(lines) // RUNS + 1
    written = 0
    interrupted_run_lines = None
    check = new_check(log_path)
    for run in range(RUNS):
        with log_path.open('ab') as f:
            part = lines[run * chunk : (run + 1) * chunk]
            f.writelines(part)
            written += len(part)
        if run == crash_run:
            with monkeypatch.context() as patch:
                inject(patch)
                before = lines_counted(aggregator)
                with pytest.raises(Crash):
                    check.run()
            # What the interrupted run could have read: everything not yet saved as read.
            interrupted_run_lines = written - before
            check = new_check(log_path)  # the Agent restarts the check
            continue
        assert check.run() == ''

    assert check.run() == ''
    counted = lines_counted(aggregator)
    assert written == len(lines)
    assert counted >= written, 'lines were lost'
    assert counted - written <= interrupted_run_lines, 'more than the interrupted run was counted twice'


def test_a_graceful_restart_counts_every_line_exactly_once(tmp_path, aggregator, datadog_agent):
    lines = sample_lines()
    log_path = tmp_path / 'agent.log'
    log_path.write_bytes(b'')
    chunk = len(lines) // RUNS + 1
    for run in range(RUNS):
        with log_path.open('ab') as f:
            f.writelines(lines[run * chunk : (run + 1) * chunk])
        check = new_check(log_path)  # a restart before every run
        assert check.run() == ''
    assert lines_counted(aggregator) == len(lines)
