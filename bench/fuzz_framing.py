# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A long fuzz campaign of the tailer and its framing: `python bench/fuzz_framing.py [lines] [seed]`
(or `generate <dir> <lines> <seed>` then `check <dir>`, so that reading is measured on its own).

Writes a raw JSON, a Docker json-file and a CRI file mixing good lines (real agent log lines with a
counter) with bad ones of every kind, reads them with the tailer in runs of 8 MiB with a restart
between every two runs, and checks that the good lines come out exactly and in order (a running
hash, so that memory does not grow with the campaign) and that each bad line is counted. Prints one
JSON object; `run_bench.py` records it in RESULTS.md.
"""

import glob
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(os.path.dirname(HERE), 'livekit', 'tests', 'fixtures', 'logs')
MAX_BYTES_PER_RUN = 8 * 1024 * 1024
MAX_LINE = 1024 * 1024
STAMP = b'2026-11-24T18:49:41.895996123Z'

# Bad lines by framing, each with the counter it must land in. Raw JSON lines are not validated by
# the framing (the parsers count them), so there only lines over the limit are rejected.
BAD = {
    'docker': [
        (b'{"log":"cut in the midd', 'framing'),
        (b'{"log":"a\x00b\\n","stream":"stdout"}', 'framing'),
        (b'{"log":"\xc3\x28\\n","stream":"stdout","time":"x"}', 'framing'),
        (b'[1,2,3]', 'framing'),
        (b'{"log":null,"stream":"stdout"}', 'framing'),
        (b'{"stream":"stdout","time":"x"}', 'framing'),
        (b'{"log":"x\\n","stream":"stdin"}', 'framing'),
        (b'\xff\xfe\x00garbage', 'framing'),
    ],
    'cri': [
        (STAMP + b' stdout', 'framing'),
        (STAMP + b' stdin F x', 'framing'),
        (STAMP + b' stdout Q x', 'framing'),
        (b'no spaces at all', 'framing'),
    ],
    'json': [],
}
RAW_ODDITIES = [b'\xff\xfe{"message"', b'{"message": "a\x00b"}', b'{"message": "truncat', b'[1, 2]', b'null', b'42']


def samples():
    lines = []
    for path in sorted(glob.glob(os.path.join(SAMPLES, '*.jsonl'))):
        with open(path, 'rb') as f:
            lines += [line for line in f.read().split(b'\n') if line]
    return lines


def encode(framing, payload, stream, chunk):
    if framing == 'docker':
        text = payload.decode()
        parts = [text[i : i + chunk] for i in range(0, len(text), chunk)] or ['']
        return [
            json.dumps(
                {'log': part + ('\n' if i == len(parts) - 1 else ''), 'stream': stream, 'time': '2026-11-24T18:49:41Z'},
                separators=(',', ':'),
            ).encode()
            for i, part in enumerate(parts)
        ]
    if framing == 'cri':
        parts = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] or [b'']
        tag = [b'P'] * (len(parts) - 1) + [b'F']
        return [b'%s %s %s %s' % (STAMP, stream.encode(), t, part) for t, part in zip(tag, parts)]
    return [payload]


def write_file(path, framing, count, rng, good_lines):
    expected = hashlib.blake2b()
    good = 0
    rejected = {}
    largest = 0
    with open(path, 'wb') as out:
        for n in range(count):
            roll = rng.random()
            if n == count // 2 or n % 100000 == 7:
                # Over the limit: 1 to 5 MiB, and one of 50 MB per file; skipped without holding it.
                size = 50 * 1000 * 1000 if n == count // 2 else rng.randint(MAX_LINE + 1, 5 * MAX_LINE)
                lines = encode(framing, b'{"message": "' + b'x' * size + b'"}', 'stdout', 16384)
                rejected['oversized'] = rejected.get('oversized', 0) + 1
                largest = max(largest, size)
            elif roll < 0.85 or n == 0:  # a file starts with a good line: `auto` detects its framing from it
                payload = rng.choice(good_lines)[:-1] + b', "n": %d}' % n
                if framing != 'docker' and rng.random() < 0.05:
                    payload += b' \xff\x00 invalid utf-8 and a NUL'
                if framing == 'json' and rng.random() < 0.02:
                    payload = rng.choice(RAW_ODDITIES)
                chunk = rng.choice([16384] * 6 + [100, 7])  # runtimes cut long lines at 16 KiB
                lines = encode(framing, payload, rng.choice(['stdout', 'stderr']), chunk)
                expected.update(b'%d:%s' % (len(payload), payload))
                good += 1
            elif BAD[framing]:
                line, reason = rng.choice(BAD[framing])
                rejected[reason] = rejected.get(reason, 0) + 1
                lines = [line]
            else:
                lines = [b'']  # a blank line: dropped, not a line
            out.write(b''.join(line + b'\n' for line in lines))
        if framing == 'cri':
            out.write(STAMP + b' stdout P a part whose line never ends\n')  # pending, neither lost nor counted
        elif framing == 'docker':
            out.write(b'{"log":"a part whose line never ends","stream":"stdout","time":"x"}\n')
    return expected.hexdigest(), good, rejected, largest


def read_file(path):
    from datadog_checks.livekit.logs.tailer import LogTailer, TailerOptions

    delivered = hashlib.blake2b()
    good = runs = 0
    rejected = {}
    errors = []
    state = None
    while True:
        runs += 1
        tailer = LogTailer([path], TailerOptions(start_position='beginning', max_bytes_per_run=MAX_BYTES_PER_RUN))
        tailer.restore(state)
        for batch in tailer.poll():
            for payload in batch.lines:
                delivered.update(b'%d:%s' % (len(payload), payload))
            good += len(batch.lines)
        for reason, n in tailer.stats.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + n
        errors += tailer.errors
        state = json.loads(json.dumps(tailer.dump_state()))
        if tailer.stats.backlog_bytes == 0:
            return delivered.hexdigest(), good, rejected, errors, runs


def generate(work, count, seed):
    """Write the three files and what reading them must give (expected.json)."""
    rng = random.Random(seed)
    good_lines = samples()
    expected = {'seed': seed, 'files': {}}
    for framing in ('json', 'docker', 'cri'):
        path = os.path.join(work, framing + '.log')
        digest, good, rejected, largest = write_file(path, framing, -(-count // 3), rng, good_lines)
        expected['files'][framing] = {'digest': digest, 'good': good, 'rejected': rejected, 'largest': largest}
    with open(os.path.join(work, 'expected.json'), 'w') as f:
        json.dump(expected, f)


def check(work):
    """Read the files with the tailer and compare with expected.json; the result as a dict."""
    with open(os.path.join(work, 'expected.json')) as f:
        expected = json.load(f)
    result = {'lines': 0, 'bytes': 0, 'good': 0, 'rejected': {}, 'expected_rejected': {}, 'largest_line': 0}
    problems = []
    for framing, want in expected['files'].items():
        path = os.path.join(work, framing + '.log')
        digest, good, rejected, errors, _ = read_file(path)
        if (digest, good) != (want['digest'], want['good']):
            problems.append('{}: {} good lines delivered of {}, or not the same'.format(framing, good, want['good']))
        if rejected != want['rejected']:
            problems.append('{}: rejected {} expected {}'.format(framing, rejected, want['rejected']))
        if errors:
            problems.append('{}: errors {}'.format(framing, errors))
        result['bytes'] += os.path.getsize(path)
        result['good'] += good
        result['largest_line'] = max(result['largest_line'], want['largest'])
        for name, counts in (('rejected', rejected), ('expected_rejected', want['rejected'])):
            for reason, n in counts.items():
                result[name][reason] = result[name].get(reason, 0) + n
    result.update(ok=not problems, problems=problems, seed=expected['seed'], max_bytes_per_run=MAX_BYTES_PER_RUN)
    return result


def main():
    if sys.argv[1:2] == ['generate']:
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ['check']:
        print(json.dumps(check(sys.argv[2])))
    else:
        count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
        seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261124
        work = tempfile.mkdtemp(prefix='livekit-fuzz-')
        try:
            generate(work, count, seed)
            result = check(work)
            result['lines'] = -(-count // 3) * 3
            print(json.dumps(result))
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
