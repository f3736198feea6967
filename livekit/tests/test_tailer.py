# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The agent log tailer, one behaviour at a time (the model in test_tailer_properties.py mixes them)."""

import json
import logging
import os
import shutil
import tracemalloc

import pytest

from datadog_checks.livekit.logs.tailer import LineBatch, LogTailer, TailerOptions

LINE = (
    '{{"message": "LLM metrics", "level": "INFO", "name": "livekit.agents", "model_name": "gemini-2.0-flash", '
    '"model_provider": "google", "ttft": 0.12, "prompt_tokens": {n}, "completion_tokens": 19, '
    '"job_id": "AJ_{n:012d}", "timestamp": "2026-11-24T18:49:41.895996+00:00"}}'
)


def line(n):
    return LINE.format(n=n).encode()


def lines(start, stop):
    return [line(n) for n in range(start, stop)]


def append(path, items, end=b'\n'):
    with open(path, 'ab') as f:
        f.write(b''.join(item + end for item in items))


def new_tailer(pattern, state=None, first=False, **options):
    options.setdefault('start_position', 'beginning')
    tailer = LogTailer([str(pattern)], TailerOptions(**options))
    tailer.restore(None if first else json.loads(json.dumps(state or tailer.dump_state())))
    return tailer


def poll(tailer):
    batches = list(tailer.poll())
    assert all(isinstance(batch, LineBatch) for batch in batches)
    return [item for batch in batches for item in batch.lines]


def restart(tailer, **options):
    """A new tailer from the saved state, as after an Agent restart."""
    kept = {name: getattr(tailer.options, name) for name in ('max_bytes_per_run', 'rotated_idle_seconds')}
    other = LogTailer(tailer.patterns, TailerOptions(**kept, **options))
    other.restore(json.loads(json.dumps(tailer.dump_state())))
    return other


@pytest.fixture
def log(tmp_path):
    return tmp_path / 'agent.log'


class TestStart:
    def test_end_skips_what_exists_at_the_very_first_run(self, log):
        append(log, lines(0, 3))
        append(log, [b'{"message": "half a li'], end=b'')
        tailer = new_tailer(log, first=True, start_position='end')
        assert poll(tailer) == []
        append(log, [b'ne"}'] + lines(3, 5))
        assert poll(tailer) == [b'{"message": "half a line"}'] + lines(3, 5)

    def test_beginning_reads_everything(self, log):
        append(log, lines(0, 3))
        assert poll(new_tailer(log, first=True)) == lines(0, 3)

    def test_a_file_that_appears_later_is_read_from_its_start(self, tmp_path):
        append(tmp_path / 'a.log', lines(0, 2))
        tailer = new_tailer(tmp_path / '*.log', first=True, start_position='end')
        assert poll(tailer) == []
        append(tmp_path / 'b.log', lines(2, 4))
        assert poll(tailer) == lines(2, 4)

    def test_the_first_run_survives_a_restart_before_it_polls(self, log):
        append(log, lines(0, 3))
        tailer = new_tailer(log, first=True, start_position='end')
        tailer = restart(tailer, start_position='beginning')  # what counts is the saved first run
        assert poll(tailer) == []


class TestState:
    def test_restart_between_any_two_runs(self, log):
        tailer = new_tailer(log, first=True)
        append(log, lines(0, 2))
        append(log, [line(2)[:10]], end=b'')
        assert poll(tailer) == lines(0, 2)
        tailer = restart(tailer)
        append(log, [line(2)[10:]])
        assert poll(tailer) == [line(2)]
        tailer = restart(tailer)
        assert poll(tailer) == []

    def test_state_covers_exactly_the_batches_yielded(self, log):
        append(log, lines(0, 3000))
        tailer = new_tailer(log, first=True, read_block_bytes=64 * 1024)
        batches = tailer.poll()
        first = next(batches)
        state = tailer.dump_state()
        batches.close()
        resumed = new_tailer(log, state)
        assert first.lines + poll(resumed) == lines(0, 3000)

    @pytest.mark.parametrize(
        'state',
        [
            {'discarded': True},
            {'version': 99, 'files': []},
            {'version': 1, 'first': None, 'files': [{'path': 3}]},
            {'version': 1, 'first': None, 'files': 'nope'},
            {'version': 1, 'first': 'middle', 'files': []},
            ['not', 'an', 'object'],
            'garbage',
        ],
    )
    def test_a_corrupt_or_foreign_state_reads_from_the_end(self, log, state, caplog):
        append(log, lines(0, 5))
        tailer = LogTailer([str(log)], TailerOptions(start_position='beginning'))
        with caplog.at_level(logging.WARNING):
            tailer.restore(state)
        assert 'Discarding the saved agent log offsets' in caplog.text
        assert poll(tailer) == []  # what may have been counted already is not counted again
        append(log, lines(5, 7))
        assert poll(tailer) == lines(5, 7)

    def test_state_holds_no_line_content(self, log):
        append(log, lines(0, 2))
        tailer = new_tailer(log, first=True)
        poll(tailer)
        assert b'AJ_' not in json.dumps(tailer.dump_state()).encode()


class TestRotation:
    def test_rename_and_create_drains_the_old_file_first(self, tmp_path, log):
        append(log, lines(0, 10))
        tailer = new_tailer(tmp_path / '*.log', first=True, max_bytes_per_run=2048)
        got = poll(tailer)
        append(log, lines(10, 60))
        os.rename(log, tmp_path / 'agent.log.1')
        append(tmp_path / 'agent.log.1', lines(60, 62))  # the writer had not reopened yet
        append(log, lines(62, 100))
        for _ in range(100):
            got += poll(tailer)
            if tailer.stats.backlog_bytes == 0:
                break
            tailer = restart(tailer)
        assert got == lines(0, 100)

    def test_copytruncate_reads_the_copy_from_the_old_offset(self, tmp_path, log):
        append(log, lines(0, 5))
        tailer = new_tailer(tmp_path / '*.log', first=True)
        assert poll(tailer) == lines(0, 5)
        append(log, lines(5, 8))
        shutil.copyfile(log, tmp_path / 'agent.log.1')
        os.truncate(log, 0)
        append(log, lines(8, 10))
        assert poll(tailer) == lines(5, 10)
        assert poll(tailer) == []

    def test_a_copy_matched_by_the_pattern_starts_at_the_offset_of_its_original(self, tmp_path, log):
        append(log, lines(0, 5))
        tailer = new_tailer(tmp_path / 'agent.log*', first=True)
        assert poll(tailer) == lines(0, 5)
        append(log, lines(5, 6))
        shutil.copyfile(log, tmp_path / 'agent.log.1')
        os.truncate(log, 0)
        assert poll(tailer) == [line(5)]

    def test_truncation_reads_the_file_again_from_its_start(self, log):
        append(log, lines(0, 5))
        tailer = new_tailer(log, first=True)
        assert poll(tailer) == lines(0, 5)
        os.truncate(log, 0)
        append(log, lines(5, 9))  # longer than before: only the first bytes tell
        assert poll(tailer) == lines(5, 9)
        assert tailer.errors == []

    def test_nul_hole_left_by_copytruncate_is_skipped_without_reading_it(self, tmp_path, log):
        append(log, lines(0, 5))
        tailer = new_tailer(tmp_path / '*.log', first=True)
        assert poll(tailer) == lines(0, 5)
        shutil.copyfile(log, tmp_path / 'agent.log.1')
        os.truncate(log, 0)
        hole = 64 * 1024 * 1024  # the writer kept its offset, far in: a sparse file
        with open(log, 'r+b') as f:
            f.seek(hole)
            f.write(line(5) + b'\n')
        assert poll(tailer) == [line(5)]
        assert tailer.stats.bytes_read < 64 * 1024

    def test_a_rotated_file_left_idle_gives_its_last_partial_line(self, tmp_path, log):
        tailer = new_tailer(tmp_path / '*.log', first=True, rotated_idle_seconds=0)
        append(log, lines(0, 2))
        append(log, [b'{"message": "cut"'], end=b'')
        assert poll(tailer) == lines(0, 2)
        os.rename(log, tmp_path / 'agent.log.1')
        assert poll(tailer) == [b'{"message": "cut"']  # delivered as it is; the parser judges it
        assert poll(tailer) == []
        os.unlink(tmp_path / 'agent.log.1')
        assert poll(tailer) == [] and tailer.errors == []

    def test_a_cri_line_cut_by_rotation_is_delivered_when_its_file_is_left(self, tmp_path, log):
        tailer = new_tailer(tmp_path / '*.log', first=True, rotated_idle_seconds=0)
        append(
            log, [b'2026-11-24T18:49:41.1Z stderr P {"message": "cut ', b'2026-11-24T18:49:41.2Z stdout F ' + line(0)]
        )
        assert poll(tailer) == [line(0)]
        os.rename(log, tmp_path / 'agent.log.1')  # the runtime never wrote the F: no loss, no growth
        append(log, [b'2026-11-24T18:49:42.1Z stderr F ' + line(1)])
        assert poll(tailer) == [b'{"message": "cut ', line(1)]
        assert tailer.stats.rejected == {}

    def test_kubernetes_symlinks_rotation_is_followed_to_the_real_directory(self, tmp_path):
        pods = tmp_path / 'pods' / 'ns_pod_uid' / 'agent'
        containers = tmp_path / 'containers'
        pods.mkdir(parents=True)
        containers.mkdir()
        real = pods / '0.log'
        append(real, lines(0, 2))
        (containers / 'pod_ns_agent-123.log').symlink_to(real)
        tailer = new_tailer(containers / '*.log', first=True)
        assert poll(tailer) == lines(0, 2)
        append(real, lines(2, 4))
        os.rename(real, pods / '0.log.20261124-184941')  # kubelet rotates next to the real file
        append(real, lines(4, 5))
        assert poll(tailer) == lines(2, 5)


class TestLimits:
    def test_a_burst_larger_than_a_run_is_worked_off_over_the_next_runs(self, log):
        append(log, lines(0, 5000))
        size = log.stat().st_size
        budget = 64 * 1024
        tailer = new_tailer(log, first=True, max_bytes_per_run=budget)
        got, backlog = [], []
        while True:
            got += poll(tailer)
            assert tailer.stats.bytes_read <= budget + len(line(0)) + 1
            backlog.append(tailer.stats.backlog_bytes)
            if tailer.stats.backlog_bytes == 0:
                break
            tailer = restart(tailer)
        assert got == lines(0, 5000)
        assert len(backlog) >= size // budget
        assert backlog == sorted(backlog, reverse=True)

    def test_batches_stay_small(self, log):
        append(log, lines(0, 20000))
        tailer = new_tailer(log, first=True)
        sizes = [sum(map(len, batch.lines)) for batch in tailer.poll()]
        assert len(sizes) > 1 and max(sizes) <= tailer.options.read_block_bytes

    def test_a_50_mb_line_is_skipped_and_counted_without_holding_it(self, log):
        append(log, [line(0), b'{"message": "' + b'x' * (50 * 1024 * 1024) + b'"}', line(1)])
        tailer = new_tailer(log, first=True, max_bytes_per_run=256 * 1024 * 1024)
        tracemalloc.start()
        try:
            got = poll(tailer)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert got == [line(0), line(1)]
        assert tailer.stats.rejected == {'oversized': 1}
        assert peak < 8 * 1024 * 1024

    def test_an_oversized_line_across_runs_and_restarts_is_counted_once(self, log):
        append(log, [line(0), b'y' * (3 * 1024 * 1024), line(1)])
        tailer = new_tailer(log, first=True, max_bytes_per_run=512 * 1024)
        got, oversized = [], 0
        for _ in range(20):
            got += poll(tailer)
            oversized += tailer.stats.rejected.get('oversized', 0)
            if tailer.stats.backlog_bytes == 0:
                break
            tailer = restart(tailer)
        assert got == [line(0), line(1)]
        assert oversized == 1

    def test_a_cri_line_without_end_is_bounded(self, log):
        part = b'2026-11-24T18:49:41.895996123Z stdout P ' + b'p' * 16384
        append(log, [part] * 200)  # 3 MiB of parts and no F
        tailer = new_tailer(log, first=True)
        assert poll(tailer) == []
        assert tailer.dump_state()['files'][0]['framing'] == {'format': 'cri', 'pending': {'stdout': [0, True]}}
        append(log, [b'2026-11-24T18:49:41.895996124Z stdout F end', b'2026-11-24T18:49:41.9Z stdout F ' + line(0)])
        assert poll(tailer) == [line(0)]
        assert tailer.stats.rejected == {'oversized': 1}


class TestDocker:
    def test_a_line_cut_by_docker_and_a_restart_is_joined_once(self, log):
        entry = '{{"log":"{}","stream":"stderr","time":"2026-11-24T18:49:41.89599{}Z"}}'
        text = line(0).decode().replace('"', '\\"')
        append(log, [entry.format(text[:50], 1).encode(), entry.format(text[50:100], 2).encode()])
        tailer = new_tailer(log, first=True)
        assert poll(tailer) == []
        tailer = restart(tailer)  # the parts read are rebuilt from the file, not from the state
        append(log, [entry.format(text[100:] + '\\n', 3).encode()])
        assert poll(tailer) == [line(0)]
