"""A long fuzz campaign over the agent-log pipeline: 1 million generated lines by default.

Real LiveKit lines (livekit/tests/fuzz_lines.py and the committed captures) are mixed with broken
copies (wrong types in every known field, NaN, 1e308, invalid UTF-8, NUL bytes, truncation, JSON
that is not an object, unknown kinds, missing level) and raw garbage, fed in check-run sized batches.
The campaign checks, and exits non-zero unless (an exception ends it with its traceback):
- every broken line is read as its mutation says (rejected with the right reason, or counted
  without metrics);
- `log.lines` and `log.unparsed` account for every line exactly once;
- everything the good lines say (requests, tokens, errors, turns, latency buckets) is exactly what
  the good lines alone give.

    .venv/bin/python bench/fuzz_campaign.py [--lines 1000000] [--seed 1] [--broken 0.5]
"""

import argparse
import json
import random
import sys
import time
from collections import Counter

# the check's test helpers: `tests` is importable through the editable install of livekit/
# (its dev-mode-dirs), in the venv `make` builds
from tests.fuzz_lines import (
    BAD_VALUE,
    COUNTED,
    NEUTRAL,
    REAL_LINES,
    by_tag,
    fixture_lines,
    model_totals,
    mixed_lines,
    read_as_mutated,
    same_totals,
)

from datadog_checks.livekit.logs.parsers import read_line
from datadog_checks.livekit.logs.pipeline import LogPipeline

BATCH = 5_000
RUN_EVERY = 50_000


class Recorder:
    """Stands in for the check: sums what the pipeline submits."""

    def __init__(self):
        self.totals = Counter()
        self.records = 0

    def count(self, name, value, tags=None):
        self.totals[(name, tuple(sorted(tags or ())))] += value

    def submit_histogram_bucket(self, name, value, lower, upper, monotonic, hostname, tags, **_):
        self.totals[(name, lower, tuple(sorted(tags)))] += value

    def send_log(self, record):
        self.records += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--lines', type=int, default=1_000_000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--broken', type=float, default=0.5, help='share of broken lines')
    args = parser.parse_args()

    rng = random.Random(args.seed)
    corpus = REAL_LINES + fixture_lines()
    mixed_pipeline, good_pipeline = LogPipeline(), LogPipeline()
    mixed, good = Recorder(), Recorder()
    outcomes, misread = Counter(), []
    batch_mixed, batch_good = [], []
    started = time.perf_counter()
    now = time.time()
    clock = 0.0

    def run(final=False):
        nonlocal clock
        mixed_pipeline.feed(batch_mixed)
        good_pipeline.feed(batch_good)
        batch_mixed.clear()
        batch_good.clear()
        if final:
            for pipeline, recorder in ((mixed_pipeline, mixed), (good_pipeline, good)):
                pipeline.flush(recorder, now + clock)
                pipeline.flush(recorder, now + clock + 10_000)

    for index, (line, outcome, reasons) in enumerate(mixed_lines(rng, corpus, args.lines, args.broken)):
        if outcome == COUNTED:
            outcomes['good'] += 1
            batch_good.append(line)
        elif reasons is None:
            outcomes['garbage'] += 1
        else:
            outcomes[outcome] += 1
            parsed = read_line(line)
            if not read_as_mutated(parsed, outcome, reasons) and len(misread) < 20:
                misread.append((line[:200].decode('utf-8', 'replace'), outcome, reasons, str(parsed)))
        batch_mixed.append(line)
        if len(batch_mixed) >= BATCH:
            run()
        if index and index % RUN_EVERY == 0:
            # a check run: submit and start over, like the Agent every 15 s
            for pipeline, recorder in ((mixed_pipeline, mixed), (good_pipeline, good)):
                pipeline.flush(recorder, now + clock)
            clock += 15
    run(final=True)
    elapsed = time.perf_counter() - started

    lines_counted = sum(by_tag(mixed.totals, 'log.lines', 'level:').values())
    unparsed = by_tag(mixed.totals, 'log.unparsed', 'reason:')
    good_unparsed = by_tag(good.totals, 'log.unparsed', 'reason:')
    shapeless = sum(v for reason, v in unparsed.items() if reason not in ('bad_value', 'unknown_schema'))
    checks = {
        'broken lines read as their mutation says': not misread,
        'every line accounted for once': lines_counted + shapeless == args.lines,
        'bad values counted': unparsed['bad_value'] == outcomes[BAD_VALUE] + good_unparsed['bad_value'],
        'lines with a level counted': lines_counted == outcomes['good'] + outcomes[NEUTRAL] + outcomes[BAD_VALUE],
        'good totals exact': same_totals(model_totals(mixed.totals), model_totals(good.totals)),
    }
    report = {
        'lines': args.lines,
        'seed': args.seed,
        'seconds': round(elapsed, 1),
        'outcomes': dict(outcomes),
        'log.lines': lines_counted,
        'log.unparsed': dict(unparsed),
        'checks': checks,
        'misread_examples': misread,
    }
    print(json.dumps(report, indent=1))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == '__main__':
    main()
