# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Does a change of the log pipeline change what it submits? Record before, compare after.

    .venv/bin/python bench/equivalence.py record /tmp/before.json    # at the code you trust
    .venv/bin/python bench/equivalence.py compare /tmp/before.json   # after the change: identical or not

The code under test is the `datadog_checks.livekit` the interpreter imports; the inputs are always
this tree's. To record a commit's code on today's inputs without checking it out:

    git archive <commit> livekit/datadog_checks | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/livekit .venv/bin/python bench/equivalence.py record /tmp/before.json

Feeds through `LogPipeline`, in runs (chunks fed, a flush at a fixed `now` every few chunks, a
restart from the JSON state half-way in one configuration, then a flush past the idle timeout):
- every log fixture, `livekit/tests/fixtures/logs/*.jsonl`, one file at a time;
- a slice of the bench log (`bench/run_bench.py`'s samples repeated with new job ids), `--bench-mb`;
- fuzz lines (`tests/fuzz_lines.mixed_lines`, the lines of `bench/fuzz_campaign.py`), `--fuzz-lines`
  with seed `--seed`;
each under two configurations (the defaults with an instance tag; small limits that evict and time
out). Every submission is recorded: each flush's counts (name, value, sorted tags) and buckets
(name, bounds, count, sorted tags) sorted, the records sent in their order, and the saved state after
each input. A digest of each input's lines makes sure both sides read the same input. The comparison
is exact (floats by repr): the pipeline must add in the same order.
"""

import argparse
import hashlib
import json
import random
import sys
import tempfile
from pathlib import Path

# the script's folder and the editable install of livekit/ (tests) are on the path
import run_bench
from tests.fuzz_lines import REAL_LINES, fixture_lines, mixed_lines

from datadog_checks.livekit.logs import pipeline
from datadog_checks.livekit.logs.pipeline import LogPipeline

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

NOW = 1_800_000_000.0
CHUNK = 997
FLUSH_EVERY = 7
CONFIGS = {
    'defaults': {'tags': ('team:voice',)},
    'small': {'min_conversation_turns': 2, 'conversation_idle_timeout': 30.0, 'max_open_conversations': 25},
}


class Recorder:
    """Stands for the check: keeps every call the pipeline makes, per flush."""

    def __init__(self):
        self.flushes = []
        self.start()

    def start(self):
        self.current = {'counts': [], 'buckets': [], 'records': []}
        self.flushes.append(self.current)

    def count(self, name, value, tags=None):
        self.current['counts'].append([name, value, sorted(tags or ())])

    def submit_histogram_bucket(self, name, value, lower, upper, monotonic, hostname, tags, **kwargs):
        self.current['buckets'].append([name, lower, upper, value, monotonic, hostname, sorted(tags), kwargs])

    def send_log(self, record):
        self.current['records'].append(record)

    def canonical(self):
        flushes = [
            {
                'counts': sorted(f['counts'], key=repr),
                'buckets': sorted(f['buckets'], key=repr),
                'records': f['records'],
            }
            for f in self.flushes
            if any(f.values())
        ]
        return json.loads(json.dumps(flushes))


def feed_in_runs(lines, options, restart):
    pipeline = LogPipeline(**options)
    recorder = Recorder()
    now = NOW
    chunks = [lines[i : i + CHUNK] for i in range(0, len(lines), CHUNK)]
    for index, chunk in enumerate(chunks, 1):
        pipeline.feed(chunk)
        if index % FLUSH_EVERY == 0:
            pipeline.flush(recorder, now)
            recorder.start()
            now += 15
        if restart and index == len(chunks) // 2:
            state = json.loads(json.dumps(pipeline.dump_state()))
            pipeline = LogPipeline(**options)
            pipeline.restore(state)
    pipeline.flush(recorder, now)
    recorder.start()
    pipeline.flush(recorder, now + 100_000)
    return {'flushes': recorder.canonical(), 'state': json.loads(json.dumps(pipeline.dump_state()))}


def inputs(bench_mb, fuzz_count, seed):
    for path in sorted((ROOT / 'livekit' / 'tests' / 'fixtures' / 'logs').glob('*.jsonl')):
        yield path.name, path.read_bytes().splitlines()
    _, blocks = run_bench.sample_blocks()
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / 'bench.log'
        run_bench.build_log(str(log), bench_mb * run_bench.MB, blocks)
        yield f'bench slice {bench_mb} MB', log.read_bytes().splitlines()
    rng = random.Random(seed)
    corpus = REAL_LINES + fixture_lines()
    yield f'fuzz {fuzz_count} lines seed {seed}', [line for line, _, _ in mixed_lines(rng, corpus, fuzz_count)]


def record_all(args):
    result = {}
    for name, lines in inputs(args.bench_mb, args.fuzz_lines, args.seed):
        digest = hashlib.sha256(b'\n'.join(lines)).hexdigest()
        for config, options in CONFIGS.items():
            result[f'{name} / {config}'] = {
                'lines': len(lines),
                'sha256': digest,
                **feed_in_runs(lines, options, restart=config == 'small'),
            }
        print(f'{name}: {len(lines)} lines', file=sys.stderr)
    return result


def submissions(entry):
    return sum(len(f['counts']) + len(f['buckets']) + len(f['records']) for f in entry['flushes'])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('mode', choices=('record', 'compare'))
    parser.add_argument('path')
    parser.add_argument('--bench-mb', type=int, default=4)
    parser.add_argument('--fuzz-lines', type=int, default=200_000)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    if args.mode == 'compare':
        expected = json.loads(Path(args.path).read_text())
        options = expected.pop('options')
        vars(args).update(options)
    print(f'code under test: {pipeline.__file__}', file=sys.stderr)
    current = record_all(args)
    total = sum(submissions(entry) for entry in current.values())
    if args.mode == 'record':
        options = {'bench_mb': args.bench_mb, 'fuzz_lines': args.fuzz_lines, 'seed': args.seed}
        Path(args.path).write_text(json.dumps({'options': options, **current}))
        print(
            f'recorded {len(current)} runs (inputs x {len(CONFIGS)} configurations), {total} submissions to {args.path}'
        )
        return
    differ = [name for name in expected if current.get(name) != expected[name]]
    differ += [name for name in current if name not in expected]
    for name in differ:
        mine, theirs = current.get(name), expected.get(name)
        if mine and theirs:
            for key in ('lines', 'sha256', 'state'):
                if mine[key] != theirs[key]:
                    print(f'{name}: {key} differs')
            for index, (a, b) in enumerate(zip(mine['flushes'], theirs['flushes'], strict=False)):
                if a != b:
                    print(f'{name}: flush {index} differs first')
                    break
        print(f'DIFFERENT: {name}')
    if differ:
        sys.exit(1)
    print(f'identical: {len(current)} runs (inputs x {len(CONFIGS)} configurations), {total} submissions compared')


if __name__ == '__main__':
    main()
