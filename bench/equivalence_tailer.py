# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Equivalence of the log tailer before and after a change: `python bench/equivalence_tailer.py`.

Runs the tailer over fixed scenarios (the agent log fixtures in raw, Docker and CRI framing, rename
and copytruncate rotations, truncation, deletion, oversized lines, NUL holes, restarts and crashes
from the dumped state, small budgets, corrupt states, file faults) and over seeded random ones, and
prints one digest per scenario and one for all: a digest covers every batch (path and lines), the
stats and errors of every poll, the dumped state and the warnings logged.

File times are set from a fake clock and deleted files are moved out of the way instead of being
unlinked (a reused inode would change what the tailer sees), so two runs of the same code give the
same digests. Paths are made relative to the scenario's folder, (dev, ino) pairs are numbered in
order of appearance.

  --save FILE      write the digests as JSON
  --compare FILE   compare with saved digests; exit 1 on a difference
  --code DIR       import the check package from DIR first (a `git archive` of an older revision)
  --dump DIR       write each scenario's full record there, to diff two runs
"""

import argparse
import glob
import hashlib
import json
import logging
import os
import random
import shlex
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(os.path.dirname(HERE), 'livekit', 'tests', 'fixtures', 'logs')
STEP = 0.001  # seconds between two file writes on the fake clock


def make_tailer(patterns, state, log, **opts):
    """A tailer with these limits, through whichever API the code under test has."""
    from datadog_checks.livekit.logs import tailer as module

    if hasattr(module, 'TailerOptions'):
        tailer = module.LogTailer(patterns, module.TailerOptions(**opts), log=log)
    else:  # the API before the options object: limits were attributes set on the instance
        limits = ('max_line_bytes', 'read_block_bytes', 'max_files', 'rotated_idle_seconds')
        set_later = {k: opts.pop(k) for k in limits if k in opts}
        tailer = module.LogTailer(patterns, log=log, **opts)
        for name, value in set_later.items():
            setattr(tailer, name, value)
    tailer.restore(state)
    return tailer


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append((record.levelname, record.getMessage()))


class Scenario:
    """A folder of log files on a fake clock, a tailer over it, and the record of what it did."""

    def __init__(self, name, patterns=('*.log',), **opts):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix='tailer-eq-')
        self.trash = tempfile.mkdtemp(prefix='tailer-eq-trash-')
        self.patterns = [os.path.join(self.dir, p) for p in patterns]
        self.opts = opts
        self.clock = time.time() - 1000  # every file is older than the default idle time of a rotated file
        self.base = self.clock
        self.keys = {}
        self.record = []
        self.handler = _Records()
        self.log = logging.getLogger('tailer-eq.' + name)
        self.log.propagate = False
        self.log.setLevel(logging.DEBUG)
        self.log.addHandler(self.handler)
        self.tailer = None

    # The files

    def path(self, name):
        return os.path.join(self.dir, name)

    def touch(self, name):
        self.clock += STEP
        os.utime(self.path(name), (self.clock, self.clock))

    def write(self, name, data):
        with open(self.path(name), 'ab') as f:
            f.write(data)
        self.touch(name)

    def pwrite(self, name, data, offset):
        fd = os.open(self.path(name), os.O_WRONLY | os.O_CREAT)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)
        self.touch(name)

    def rename(self, old, new):
        os.rename(self.path(old), self.path(new))

    def copy(self, old, new):
        shutil.copyfile(self.path(old), self.path(new))
        self.touch(new)

    def truncate(self, name, size=0):
        os.truncate(self.path(name), size)
        self.touch(name)

    def delete(self, name):
        """Gone for the tailer; its inode stays taken, so that no new file of the scenario reuses it."""
        os.rename(self.path(name), os.path.join(self.trash, '{}.{}'.format(len(os.listdir(self.trash)), name)))

    # The tailer

    def start(self, state=None, **opts):
        self.tailer = make_tailer(self.patterns, state, self.log, **{**self.opts, **opts})
        self.note('start', self.take_log())

    def restart(self, **opts):
        """A new tailer from the saved state, through JSON as in the persistent cache."""
        self.start(json.loads(json.dumps(self.tailer.dump_state())), **opts)

    def poll(self, stop_after=None):
        """One poll; `stop_after` batches, then the generator is closed (a run that stopped early)."""
        batches = []
        generator = self.tailer.poll()
        for batch in generator:
            batches.append([self.rel(batch.path), [line.decode('latin-1') for line in batch.lines]])
            if stop_after is not None and len(batches) >= stop_after:
                generator.close()
                break
        s = self.tailer.stats
        stats = [s.bytes_read, s.lines, list(s.rejected.items()), s.backlog_bytes, s.files]
        errors = [[self.rel(path), reason] for path, reason in self.tailer.errors]
        self.note('poll', batches, stats, errors, self.state(), self.take_log())
        return batches

    def drain(self, restart=False, limit=500):
        for _ in range(limit):
            self.poll()
            if self.tailer.stats.backlog_bytes == 0:
                return
            if restart:
                self.restart()

    def state(self):
        state = json.loads(json.dumps(self.tailer.dump_state()))
        for f in state.get('files', ()):
            f['path'] = self.rel(f['path'])
            key = (f.pop('dev'), f.pop('ino'))
            f['key'] = self.keys.setdefault(key, len(self.keys))
            for name in ('mtime', 'read_mtime'):
                if f[name]:
                    f[name] = round((f[name] - self.base) / STEP)
        return state

    def rel(self, path):
        return os.path.relpath(path, self.dir) if isinstance(path, str) and path.startswith(self.dir) else path

    def take_log(self):
        messages = [(level, message.replace(self.dir, '<dir>')) for level, message in self.handler.messages]
        self.handler.messages = []
        return messages

    def note(self, *item):
        self.record.append(item)

    def close(self):
        self.log.removeHandler(self.handler)
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.trash, ignore_errors=True)
        text = json.dumps(self.record, separators=(',', ':'))
        return hashlib.sha256(text.encode()).hexdigest(), text


# Lines

LINE = (
    '{{"message": "LLM metrics", "level": "INFO", "name": "livekit.agents", "model_name": "gemini-2.0-flash", '
    '"ttft": 0.12, "prompt_tokens": {n}, "job_id": "AJ_{n:012d}", "timestamp": "2026-11-24T18:49:41.8Z"}}'
)


def line(n):
    return LINE.format(n=n).encode()


def lines(start, stop, end=b'\n'):
    return b''.join(line(n) + end for n in range(start, stop))


def docker(payload, stream='stderr', stamp=1, complete=True):
    text = payload.decode('utf-8', 'replace') + ('\n' if complete else '')
    entry = {'log': text, 'stream': stream, 'time': '2026-11-24T18:49:41.{:09d}Z'.format(stamp)}
    return json.dumps(entry, separators=(',', ':')).encode() + b'\n'


def cri(payload, stream='stdout', stamp=1, complete=True):
    return b'2026-11-24T18:49:41.%09dZ %s %s %s\n' % (stamp, stream.encode(), b'F' if complete else b'P', payload)


def framed(fmt, payloads, stamp=0):
    if fmt == 'json':
        return b''.join(p + b'\n' for p in payloads)
    wrap = docker if fmt == 'docker' else cri
    return b''.join(wrap(p, stamp=stamp + i) for i, p in enumerate(payloads))


def fixture_payloads():
    out = []
    for path in sorted(glob.glob(os.path.join(SAMPLES, '*.jsonl'))):
        with open(path, 'rb') as f:
            out.extend(line for line in f.read().split(b'\n') if line)
    return out


# Fixed scenarios, as steps: a header line `name option=value ...` (`patterns=a,b`), then one step a
# line. Steps: write NAME DATA..., pwrite NAME OFFSET DATA..., rename A B, copy A B, truncate NAME
# [SIZE], delete NAME, unlink NAME, mkdir NAME, mkfifo NAME, symlink TARGET NAME (`@x`: x in the
# folder), clock SECONDS, touch NAME, start/restart [option=value], poll [BATCHES], drain [restart].
# DATA: `L3-5` lines 3 and 4 with their newline, `L3` or `L3[a:b]` line 3 (a slice) without it,
# `t:TEXT`, `nl`, `c*N` (N times c; `nul*N`), `cri/STREAM/STAMP/F=DATA`, `docker/STREAM/STAMP/P=DATA`.
STEPS = r"""
start-end-partial start_position=end
  write agent.log L0-3 't:{"message": "half a li'
  start
  poll
  write agent.log 't:ne"}' nl L3-5
  poll
  write b.log L5-7
  poll

start-end-restart-before-poll start_position=end
  write agent.log L0-3
  start
  restart start_position=beginning
  poll

start-end-oversized-tail start_position=end max_line_bytes=300
  write agent.log L0-2 x*1000
  start
  poll
  write agent.log t:yyy nl L2-4
  poll

state-covers-batches read_block_bytes=4096
  write agent.log L0-300
  start
  poll 1
  restart
  poll

rename-create max_bytes_per_run=2048
  write agent.log L0-10
  start
  poll
  write agent.log L10-60
  rename agent.log agent.log.1
  write agent.log.1 L60-62
  write agent.log L62-100
  drain restart

rename-out-of-glob-idle rotated_idle_seconds=0
  write agent.log L0-2 't:{"message": "cut"'
  start
  poll
  rename agent.log agent.log.1
  poll
  poll
  delete agent.log.1
  poll

rename-twice-then-gone max_bytes_per_run=1500
  write agent.log L0-30
  start
  poll
  rename agent.log agent.log.1
  write agent.log L30-40
  rename agent.log.1 agent.log.2
  rename agent.log agent.log.1
  write agent.log L40-45
  poll
  delete agent.log.2
  drain

rename-compressed rotated_idle_seconds=1000000
  write agent.log
  start
  poll
  rename agent.log agent.log.1.gz
  write agent.log L0-2
  poll
  rename agent.log other.txt
  poll

rename-empty-then-written rotated_idle_seconds=1000000
  write agent.log
  start
  poll
  rename agent.log agent.log.1
  write agent.log.1 L0-3
  write agent.log L3-4
  poll
  poll

copytruncate
  write agent.log L0-5
  start
  poll
  write agent.log L5-8
  copy agent.log agent.log.1
  truncate agent.log
  write agent.log L8-10
  poll
  poll

copytruncate-in-glob patterns=agent.log*
  write agent.log L0-5
  start
  poll
  write agent.log L5-6
  copy agent.log agent.log.1
  truncate agent.log
  poll
  write agent.log L6-8
  poll

copytruncate-then-copy-deleted max_bytes_per_run=1024
  write agent.log L0-5
  start
  poll
  write agent.log L5-20
  copy agent.log agent.log.1
  truncate agent.log
  poll
  delete agent.log.1
  write agent.log L20-22
  drain

copy-then-original-deleted
  write agent.log L0-5
  start
  poll
  write agent.log L5-9 't:{"partial"'
  copy agent.log agent.1
  delete agent.log
  poll
  poll

copytruncate-nul-hole
  write agent.log L0-5
  start
  poll
  copy agent.log agent.log.1
  truncate agent.log
  pwrite agent.log 1030 L5-6
  poll
  copy agent.log agent.log.2
  truncate agent.log
  pwrite agent.log 67108864 L6-8
  poll
  write agent.log nul*100 L8-9
  poll
  write agent.log nul*70000
  poll
  write agent.log L9-10
  poll

head-hole-fingerprints patterns=*.log*
  pwrite a.log 5000 L0-2
  pwrite b.log 5000 L2-3
  pwrite c.log 0 nul*10
  start
  poll
  copy a.log a.log.1
  truncate a.log
  write a.log L3-4
  write c.log L4-5
  poll

truncate
  write agent.log L0-5
  start
  poll
  truncate agent.log
  write agent.log L5-9
  poll
  write agent.log cri/stdout/1/P=t:part
  poll
  truncate agent.log 10
  poll
  write agent.log L9-10
  poll

deleted-before-read max_bytes_per_run=16384
  write a.log L0-2000
  start
  poll
  delete a.log
  write b.log L2000-2001
  poll
  poll

deleted-unlinked max_bytes_per_run=16384
  write a.log L0-2000
  start
  poll
  unlink a.log
  poll
  poll

oversized max_line_bytes=500 max_bytes_per_run=700 read_block_bytes=256
  write agent.log L0-2 y*3000 nl L2-4 z*501 nl w*500 nl
  start
  drain restart
  write agent.log q*2000
  poll
  poll
  write agent.log nl L4-5
  drain

oversized-default max_bytes_per_run=3145728
  write agent.log L0-1 't:{"message": "' x*2097152 't:"}' nl L1-2
  start
  drain restart

docker-parts-restart max_bytes_per_run=300
  write agent.log docker/stderr/1/P=L0[:50] docker/stderr/2/P=L0[50:100]
  start
  poll
  restart
  write agent.log docker/stderr/3/F=L0[100:]
  drain restart
  write agent.log 't:{"log":"cut in the midd' nl t:42 nl 't:{"log":"x\n"}' nl docker/stdout/4/F=L1
  drain restart

cri-parts max_line_bytes=1000 rotated_idle_seconds=0
  write agent.log 'cri/stderr/1/P=t:{"message": "cut ' cri/stdout/2/F=L0
  start
  poll
  rename agent.log agent.log.1
  write agent.log cri/stderr/3/F=L1
  poll
  write agent.log cri/stdout/0/P=p*300 cri/stdout/1/P=p*300 cri/stdout/2/P=p*300 cri/stdout/3/P=p*300
  write agent.log cri/stdout/4/P=p*300 cri/stdout/9/F=t:end
  write agent.log cri/stderr/10/F= cri/stdout:x/11/F=L2 't:2026-11-24 stdin F x' nl
  poll
  write agent.log cri/stdout/0/P=r*100 cri/stdout/1/P=r*100 cri/stdout/2/P=r*100
  restart
  poll
  truncate agent.log
  write agent.log cri/stdout/1/F=L3
  poll

forced-format log_format=cri
  write agent.log L0-2 cri/stdout/1/F=L2
  start
  poll
  restart log_format=json
  write agent.log L3-4
  poll

many-files max_files=20
  write agent-00.log L0-1
  write agent-07.log L7-8
  write agent-01.log L1-2
  write agent-13.log L13-14
  write agent-02.log L2-3
  write agent-03.log L3-4
  write agent-04.log L4-5
  write agent-05.log L5-6
  write agent-06.log L6-7
  write agent-08.log L8-9
  write agent-09.log L9-10
  write agent-10.log L10-11
  write agent-11.log L11-12
  write agent-12.log L12-13
  write agent-14.log L14-15
  write agent-15.log L15-16
  write agent-16.log L16-17
  write agent-17.log L17-18
  write agent-18.log L18-19
  write agent-19.log L19-20
  write agent-20.log L20-21
  write agent-21.log L21-22
  write agent-22.log L22-23
  start
  poll
  poll

file-faults patterns=*.log,dir/*/*/*.txt,missing/*.log,nodir/x.log
  write a.log L0-1
  mkdir b.log
  mkfifo pipe.log
  symlink self.log self.log
  symlink gone.target gone.log
  mkdir dir
  symlink .. dir/up
  write real.txt L1-2
  symlink @real.txt link.log
  start
  poll
  write real.txt L2-3
  rename real.txt real.txt.1
  write real.txt L3-4
  poll
  poll

symlink-kubernetes patterns=containers/*.log
  mkdir pods
  mkdir pods/agent
  mkdir containers
  write pods/agent/0.log L0-2
  symlink @pods/agent/0.log containers/pod.log
  start
  poll
  write pods/agent/0.log L2-4
  rename pods/agent/0.log pods/agent/0.log.20261124
  write pods/agent/0.log L4-5
  poll

retention rotated_idle_seconds=0
  write agent.log L0-2
  start
  poll
  rename agent.log agent.log.1
  poll
  clock -10000
  touch agent.log.1
  poll
  poll
"""


def parse_steps(text):
    """{name: (options, patterns, [step tokens])} of STEPS."""
    scenarios, current = {}, None
    for raw in text.splitlines():
        if not raw.strip():
            continue
        tokens = shlex.split(raw)
        if raw.startswith(' '):
            current.append(tokens)
            continue
        opts = settings(tokens[1:])
        patterns = tuple(opts.pop('patterns', '*.log').split(','))
        current = []
        scenarios[tokens[0]] = ({'start_position': 'beginning', **opts}, patterns, current)
    return scenarios


def settings(tokens):
    opts = dict(token.split('=', 1) for token in tokens)
    return {k: int(v) if v.lstrip('-').isdigit() else v for k, v in opts.items()}


def data(tokens):
    return b''.join(_data(token) for token in tokens)


def _data(token):
    if token == 'nl':
        return b'\n'
    if token.startswith('t:'):
        return token[2:].encode()
    if token.startswith(('cri/', 'docker/')):
        spec, inner = token.split('=', 1)
        kind, stream, stamp, tag = spec.split('/')
        wrap = cri if kind == 'cri' else docker
        return wrap(_data(inner) if inner else b'', stream, int(stamp), complete=tag == 'F')
    if '*' in token:
        char, n = token.rsplit('*', 1)
        return (b'\0' if char == 'nul' else char.encode()) * int(n)
    if '-' in token:
        start, stop = token[1:].split('-')
        return lines(int(start), int(stop))
    n, _, cut = token[1:].partition('[')
    if not cut:
        return line(int(n))
    a, b = cut.rstrip(']').split(':')
    return line(int(n))[int(a) if a else None : int(b) if b else None]


def run_steps(s, steps):
    for op, *args in steps:
        if op in ('write', 'pwrite'):
            offset = int(args.pop(1)) if op == 'pwrite' else None
            name, payload = args[0], data(args[1:])
            s.write(name, payload) if offset is None else s.pwrite(name, payload, offset)
        elif op in ('rename', 'copy', 'truncate', 'delete', 'touch'):
            getattr(s, op)(*args[:1], *(int(a) if a.isdigit() else a for a in args[1:]))
        elif op == 'unlink':
            os.unlink(s.path(args[0]))  # a real unlink, with no new file to reuse its inode
        elif op in ('mkdir', 'mkfifo'):
            getattr(os, op)(s.path(args[0]))
        elif op == 'symlink':
            target = s.path(args[0][1:]) if args[0].startswith('@') else args[0]
            os.symlink(target, s.path(args[1]))
        elif op == 'clock':
            s.clock += float(args[0])
        elif op in ('start', 'restart'):
            getattr(s, op)(**settings(args))
        elif op == 'poll':
            s.poll(int(args[0]) if args else None)
        elif op == 'drain':
            s.drain(restart=bool(args))
        else:
            raise ValueError('unknown step {!r}'.format(op))


# Scenarios in Python: the fixtures, and states that are not a dump


def fixtures(fmt, rotations=False, restart=False):
    """The agent log fixtures, framed: read over one run or many (restarting between them), or
    through two rotations."""

    def run(s):
        payloads = fixture_payloads()
        if not rotations:
            data = framed(fmt, payloads)
            s.write('agent.log', data[: len(data) // 2])
            s.start()
            s.poll()
            s.write('agent.log', data[len(data) // 2 :])
            s.drain(restart=restart)
            return
        third = len(payloads[:3000]) // 3
        s.write('agent.log', framed(fmt, payloads[:third]))
        s.start()
        s.poll()
        s.write('agent.log', framed(fmt, payloads[third : 2 * third], 1))
        s.rename('agent.log', 'agent.log.1')  # rename and create
        s.write('agent.log', framed(fmt, payloads[2 * third : 2 * third + 100], 2))
        s.poll()
        s.restart()
        s.write('agent.log', framed(fmt, payloads[2 * third + 100 : 3000], 3))
        s.copy('agent.log', 'agent.log.2')  # copytruncate
        s.truncate('agent.log')
        s.write('agent.log', framed(fmt, payloads[:50], 4))
        s.drain(restart=True)

    return run


def corrupt_states(s):
    """States of another version or corrupt ones: discarded with a warning, files read from their end."""
    s.write('agent.log', lines(0, 5))
    foreign = [{'discarded': True}, {'version': 99, 'files': []}, ['not', 'an', 'object'], 'garbage', None]
    foreign += [{'version': 1, 'first': None, 'files': v} for v in ([{'path': 3}], 'nope', [{'dev': 1, 'ino': -1}])]
    foreign.append({'version': 1, 'first': 'middle', 'files': []})
    for state in foreign:
        s.start(state)
        s.poll()
        s.write('agent.log', lines(5, 6))
        s.poll()
    good = s.tailer.dump_state()['files'][0]
    framings = [{'format': 'xml', 'pending': {}}, {'format': 'cri', 'pending': {'stdin': [0, False]}}]
    framings.append({'format': 'cri', 'pending': {'stdout': [-1, False]}})
    changes = [{'offset': -1}, {'offset': 1.5}, {'skip': 1}, {'fp': None}, {'fp_len': 0}, {'mtime': 'x'}]
    changes += [{'path': None}] + [{'framing': framing} for framing in framings]
    entries = [{**good, **change} for change in changes]
    entries.append({k: v for k, v in good.items() if k != 'done'})
    for entry in entries:
        s.start(json.loads(json.dumps({'version': 1, 'first': None, 'files': [entry]})))
        s.poll()


def fixed_scenarios():
    """{name: (run, options, patterns)}"""
    out = {}
    for fmt in ('json', 'docker', 'cri'):
        for budget in (1 << 25, 64 * 1024, 5000):
            opts = {'start_position': 'beginning', 'max_bytes_per_run': budget}
            run = fixtures(fmt, restart=budget == 64 * 1024)
            out['fixtures-{}-{}'.format(fmt, budget)] = (run, opts, ('*.log',))
        opts = {'start_position': 'beginning', 'max_bytes_per_run': 20000, 'rotated_idle_seconds': 0}
        out['fixtures-rotations-' + fmt] = (fixtures(fmt, rotations=True), opts, ('*.log',))
    out['corrupt-states'] = (corrupt_states, {'start_position': 'beginning'}, ('*.log',))
    for name, (opts, patterns, steps) in parse_steps(STEPS).items():
        out[name] = (lambda s, steps=steps: run_steps(s, steps), opts, patterns)
    return out


# Random scenarios: writers, rotations, restarts and crashes, seeded


def random_scenario(seed):
    rnd = random.Random(seed)
    fmt = rnd.choice(['json', 'docker', 'cri'])
    opts = {
        'start_position': rnd.choice(['end', 'beginning']),
        'max_bytes_per_run': rnd.choice([1024, 3000, 1 << 20]),
        'read_block_bytes': rnd.choice([16, 256, 65536]),
        'max_line_bytes': rnd.choice([200, 200, 1 << 20]),
        'rotated_idle_seconds': rnd.choice([0, 0, 10**6]),
        'log_format': rnd.choice(['auto', 'auto', fmt]),
    }
    pattern = rnd.choice(['*.log', '*.log*'])

    def run(s):
        names = ['a', 'b']
        rotated = dict.fromkeys(names, 0)
        holes = {}
        seq = [0]
        states = []

        def payload():
            seq[0] += 1
            size = rnd.choice([rnd.randint(0, 40), rnd.randint(0, 40), rnd.randint(180, 400)])
            body = bytes(rnd.choice(b'abcdefghij "{}\\\xc3\xa9') for _ in range(size))
            return b'%d|' % seq[0] + body

        def write(n):
            name = n + '.log'
            p = payload()
            if fmt == 'json':
                data = p + b'\n'
            else:
                wrap = docker if fmt == 'docker' else cri
                k = rnd.randint(1, 4)
                size = max(1, -(-len(p) // k))
                chunks = [p[i : i + size] for i in range(0, len(p), size)] or [b'']
                stream = rnd.choice(['stdout', 'stderr'])
                data = b''.join(
                    wrap(c, stream, seq[0] * 10 + i, complete=i == len(chunks) - 1) for i, c in enumerate(chunks)
                )
            if rnd.random() < 0.2:
                data = data[: rnd.randint(0, len(data))]  # cut: the rest comes later or never
            if n in holes and os.path.exists(s.path(name)):
                s.pwrite(name, data, holes.pop(n))
            else:
                s.write(name, data)

        s.write('a.log', b'')
        s.start()
        for _ in range(rnd.randint(20, 60)):
            n = rnd.choice(names)
            name = n + '.log'
            op = rnd.random()
            exists = os.path.exists(s.path(name))
            if op < 0.45:
                write(n)
            elif op < 0.55 and exists:
                for i in range(rotated[n], 0, -1):
                    s.rename('{}.{}'.format(name, i), '{}.{}'.format(name, i + 1))
                s.rename(name, name + '.1')
                rotated[n] += 1
                if rnd.random() < 0.5:
                    s.write(name, b'')
            elif op < 0.62 and exists:
                for i in range(rotated[n], 0, -1):
                    s.rename('{}.{}'.format(name, i), '{}.{}'.format(name, i + 1))
                size = os.path.getsize(s.path(name))
                s.copy(name, name + '.1')
                s.truncate(name)
                rotated[n] += 1
                if rnd.random() < 0.5:
                    holes[n] = size
            elif op < 0.65 and exists:
                s.truncate(name)
            elif op < 0.67 and exists:
                s.delete(name)
            elif op < 0.70 and rotated[n]:
                s.delete('{}.{}'.format(name, rotated[n]))
                rotated[n] -= 1
            elif op < 0.88:
                states.append(json.loads(json.dumps(s.tailer.dump_state())))
                s.poll()
            elif op < 0.95:
                s.restart()
            elif states:
                s.start(states[-1])  # a crash: the state saved before the last poll
        s.drain(limit=20)

    return run, {**opts}, (pattern,)


def run_all(names=None):
    digests, texts = {}, {}
    items = fixed_scenarios()
    for seed in range(RANDOM_SEEDS):
        items['random-{:03d}'.format(seed)] = random_scenario(seed)
    for name, (fn, opts, patterns) in items.items():
        if names and name not in names:
            continue
        s = Scenario(name, patterns, **opts)
        try:
            fn(s)
        finally:
            digests[name], texts[name] = s.close()
    return digests, texts


RANDOM_SEEDS = 200


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--save')
    parser.add_argument('--compare')
    parser.add_argument('--code')
    parser.add_argument('--dump')
    parser.add_argument('names', nargs='*')
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, os.path.abspath(args.code))
    import datadog_checks.livekit.logs.tailer as module

    print('tailer under test:', module.__file__, file=sys.stderr)
    digests, texts = run_all(set(args.names))
    total = hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()
    for name, digest in digests.items():
        print(digest[:16], name)
    print(total, 'all {} scenarios'.format(len(digests)))
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for name, text in texts.items():
            with open(os.path.join(args.dump, name + '.json'), 'w') as f:
                f.write(text)
    if args.save:
        with open(args.save, 'w') as f:
            json.dump({'all': total, 'scenarios': digests}, f, indent=1)
    if args.compare:
        with open(args.compare) as f:
            saved = json.load(f)['scenarios']
        differ = sorted(name for name in set(saved) | set(digests) if saved.get(name) != digests.get(name))
        print('identical' if not differ else 'DIFFERENT: ' + ', '.join(differ))
        return 1 if differ else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
