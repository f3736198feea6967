# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Nothing lost, nothing counted twice: a model of writers, log rotation and check restarts.

Two writers append lines (whole, in parts, cut in the middle of a byte sequence) in one framing
(raw JSON lines, Docker json-file, CRI). Between polls they rotate by rename-and-create or by
copytruncate (with an O_APPEND writer or one that keeps its offset and leaves a NUL hole), get
truncated, lose their oldest rotated file; the check restarts gracefully or crashes between
submitting a run's lines and saving the offsets. The model knows every line written and where;
after everything has been read, the delivered lines must be exactly the ones written (minus the
ones the model says cannot be read any more), each once (twice at most for the lines of a run
interrupted by a crash), in order within each file, and every line over the limit counted.
"""

import json
import os
import shutil
import tempfile
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, rule

from datadog_checks.livekit.logs.tailer import LogTailer, TailerOptions

MAX_LINE = 200
PART_BYTES = 64  # Docker and CRI writers cut a line into parts of at most this many bytes
PART_CHARS = 16


class ModelFile:
    """A physical file of the model: its current path and the lines completed in it, in order."""

    def __init__(self, path, lines=None):
        self.path = path
        self.lines = list(lines or ())


class Writer:
    def __init__(self, machine, name):
        self.m = machine
        self.name = name
        self.path = os.path.join(machine.dir, name + '.log')
        self.file = ModelFile(self.path)
        self.rotated = []  # newest first: <name>.log.1, .2, ...
        self.seq = 0
        self.open = {}  # stream -> (payload, physical lines not written yet)
        self.cut_rest = b''  # end of a physical line not written yet
        self.cut_completes = None  # the payload completed when cut_rest is written
        self.hole_at = None  # a writer that kept its offset after copytruncate writes there next
        # The tailer polled since this file was created (it knows its inode), and saw bytes in it (it
        # knows its fingerprint). Out of the patterns, a rotated file is found by one or the other:
        # a file created and rotated between two runs cannot be found.
        self.seen = False
        self.seen_line = False  # ... and a whole first line (a copy is known by its first bytes)

    def raw_write(self, data, path=None):
        path = path or self.path
        if self.hole_at is not None and path == self.path:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT)
            try:
                os.pwrite(fd, data, self.hole_at)
            finally:
                os.close(fd)
            self.hole_at = None
        else:
            with open(path, 'ab') as f:
                f.write(data)

    def new_payload(self, filler):
        self.seq += 1
        ident = '{}{:05d}|'.format(self.name, self.seq)
        if isinstance(filler, str):
            return (ident + filler).encode()
        return ident.encode() + filler

    def physical(self, payload, stream, extra_parts):
        framing = self.m.framing
        if framing == 'json':
            return [payload + b'\n']
        if framing == 'docker':
            text = payload.decode()
            size = max(1, -(-len(text) // (-(-len(text) // PART_CHARS) + extra_parts)))
            chunks = [text[i : i + size] for i in range(0, len(text), size)]
            return [
                json.dumps(
                    {
                        'log': chunk + ('\n' if i == len(chunks) - 1 else ''),
                        'stream': stream,
                        'time': self.m.timestamp(),
                    },
                    ensure_ascii=False,
                ).encode()
                + b'\n'
                for i, chunk in enumerate(chunks)
            ]
        size = max(1, -(-len(payload) // (-(-len(payload) // PART_BYTES) + extra_parts)))
        chunks = [payload[i : i + size] for i in range(0, len(payload), size)]
        return [
            b'%s %s %s %s\n'
            % (self.m.timestamp().encode(), stream.encode(), b'F' if i == len(chunks) - 1 else b'P', chunk)
            for i, chunk in enumerate(chunks)
        ]

    def flush_cut(self, path=None):
        if self.cut_rest:
            self.raw_write(self.cut_rest, path)
            self.cut_rest = b''
            if self.cut_completes is not None:
                self.m.complete(self, self.cut_completes)
                self.cut_completes = None

    def finish_all(self, path=None):
        """The writer ends every line it started (before a rotation, or at the end)."""
        self.flush_cut(path)
        for payload, remaining in self.open.values():
            self.raw_write(b''.join(remaining), path)
            self.m.complete(self, payload)
        self.open = {}

    def rotated_path(self, i):
        return '{}.{}'.format(self.path, i)

    def shift_rotated(self):
        for i in range(len(self.rotated), 0, -1):
            os.rename(self.rotated_path(i), self.rotated_path(i + 1))
            self.rotated[i - 1].path = self.rotated_path(i + 1)


class TailerMachine(RuleBasedStateMachine):
    writers = Bundle('writers')

    @initialize(
        target=writers,
        framing=st.sampled_from(['json', 'docker', 'cri']),
        rotated_in_glob=st.booleans(),
        start_position=st.sampled_from(['end', 'beginning']),
        budget=st.sampled_from([1024, 3000, 1 << 20]),
        block=st.sampled_from([16, 256, 65536]),
    )
    def setup(self, framing, rotated_in_glob, start_position, budget, block):
        self.dir = tempfile.mkdtemp(prefix='tailer-model-')
        self.framing = framing
        self.rotated_in_glob = rotated_in_glob
        self.pattern = os.path.join(self.dir, '*.log*' if rotated_in_glob else '*.log')
        self.start_position = start_position
        self.budget = budget
        self.block = block
        self.tailer = self.new_tailer(None)
        self.writer_list = [Writer(self, 'a'), Writer(self, 'b')]
        self.completed = []  # payloads in completion order
        self.order = {}  # payload -> (model file, index in it)
        self.delivered = Counter()
        self.first_delivery = []  # payloads in the order of their first delivery
        self.lost = set()  # not delivered when the model destroyed them
        self.skipped = set()  # before the first poll with start_position: end
        self.may_repeat = Counter()
        self.rejected = Counter()
        self.polled = False
        self.loss_events = 0
        self.crashes = 0
        self.rotations = 0  # since the last poll
        self.rotated_twice = False  # between two polls, at some point
        self.clock = 0
        self.last_action_poll = False
        self.state_before_poll = None
        self.last_poll_lines = []
        return multiple(*self.writer_list)

    def teardown(self):
        if not hasattr(self, 'dir'):
            return
        try:
            for w in self.writer_list:
                w.finish_all()
            for _ in range(500):
                got = self.poll_once()
                if not got and self.tailer.stats.backlog_bytes == 0:
                    break
            self.check_final()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # Helpers

    def timestamp(self):
        """A distinct RFC 3339 timestamp for each physical line, as Docker and CRI runtimes write."""
        self.clock += 1
        return '2026-11-24T18:{:02d}:{:02d}.{:09d}Z'.format(self.clock // 60 % 60, self.clock % 60, self.clock)

    def new_tailer(self, state):
        options = TailerOptions(
            log_format='auto',
            start_position=self.start_position,
            max_bytes_per_run=self.budget,
            max_line_bytes=MAX_LINE,
            read_block_bytes=self.block,
            rotated_idle_seconds=0,  # the model's writers never write to a file once rotated
        )
        tailer = LogTailer([self.pattern], options)
        tailer.restore(None if state is None else json.loads(json.dumps(state)))
        return tailer

    def complete(self, writer, payload):
        self.order[payload] = (writer.file, len(writer.file.lines))
        writer.file.lines.append(payload)
        self.completed.append(payload)

    def lose(self, model_file):
        for payload in model_file.lines:
            if not self.delivered[payload]:
                self.lost.add(payload)
        self.loss_events += 1

    def poll_once(self):
        if not self.polled and self.start_position == 'end':
            # Files that exist at the very first run are read from their end: start on a line boundary.
            for w in self.writer_list:
                w.finish_all()
            self.skipped.update(self.completed)
        self.polled = True
        self.state_before_poll = self.tailer.dump_state()
        lines = []
        for batch in self.tailer.poll():
            assert isinstance(batch.path, str)
            lines.extend(batch.lines)
        self.rejected.update(self.tailer.stats.rejected)
        errors = self.tailer.errors
        # Lines lost by a deletion or a truncation are reported. So may be, when the tailer cannot tell it
        # from a deleted file whose inode was reused, a file rotated twice between two runs before its
        # first line was read, or a file that a crashed run read but the restored state did not know.
        assert all(reason.startswith('deleted or replaced before') for _, reason in errors), errors
        self.rotated_twice = self.rotated_twice or self.rotations > 1
        self.rotations = 0
        assert not errors or self.loss_events or self.rotated_twice or self.crashes, errors
        for payload in lines:
            assert payload in self.order, payload
            assert payload not in self.lost and payload not in self.skipped, payload
            assert len(payload) <= MAX_LINE
            if not self.delivered[payload]:
                self.first_delivery.append(payload)
            self.delivered[payload] += 1
            assert self.delivered[payload] <= 1 + self.may_repeat[payload], payload
        for w in self.writer_list:
            w.seen = os.path.exists(w.path)
            with open(w.path, 'rb') if w.seen else open(os.devnull, 'rb') as f:
                w.seen_line = b'\n' in f.read(1024)
        self.last_poll_lines = lines
        return lines

    def check_final(self):
        expected = [p for p in self.completed if p not in self.lost and p not in self.skipped]
        missing = [p for p in expected if len(p) <= MAX_LINE and not self.delivered[p]]
        assert not missing, missing[:5]
        oversized = sum(1 for p in expected if len(p) > MAX_LINE)
        if not self.loss_events and not self.crashes:
            assert self.rejected['oversized'] == oversized
            assert self.delivered == Counter(p for p in expected if len(p) <= MAX_LINE)
        assert self.rejected['framing'] == 0
        assert not self.rejected['unfinished'] or self.loss_events
        # Within each physical file, lines arrive in the order they were written.
        position = {}
        for payload in self.first_delivery:
            model_file, index = self.order[payload]
            assert position.get(id(model_file), -1) < index, payload
            position[id(model_file)] = index

    def can_rotate(self, w, by_copy=False):
        return self.rotated_in_glob or (w.seen_line if by_copy else w.seen)

    # Rules

    @rule(
        w=writers,
        data=st.data(),
        stream=st.sampled_from(['stdout', 'stderr']),
        extra_parts=st.integers(0, 3),
        parts_now=st.integers(1, 4),
        cut=st.integers(0, 30),
    )
    def write(self, w, data, stream, extra_parts, parts_now, cut):
        self.last_action_poll = False
        w.flush_cut()
        if self.framing == 'json':
            stream = 'stdout'
        if stream not in w.open:
            # Mostly short lines, some around and over MAX_LINE.
            size = data.draw(st.one_of(st.integers(0, 40), st.integers(MAX_LINE - 20, 2 * MAX_LINE)))
            if self.framing == 'docker':
                chars = st.characters(blacklist_characters='\n', blacklist_categories=('Cs',))
                filler = data.draw(st.text(chars, min_size=size, max_size=size))
            else:
                filler = data.draw(st.binary(min_size=size, max_size=size).map(lambda b: b.replace(b'\n', b'.')))
            payload = w.new_payload(filler)
            w.open[stream] = (payload, w.physical(payload, stream, extra_parts))
        payload, remaining = w.open[stream]
        chunk = remaining[:parts_now]
        del remaining[:parts_now]
        done = not remaining
        if done:
            del w.open[stream]
        blob = b''.join(chunk)
        cut = min(cut, len(chunk[-1]))
        if cut:
            w.raw_write(blob[:-cut])
            w.cut_rest = blob[-cut:]
            w.cut_completes = payload if done else None
        else:
            w.raw_write(blob)
            if done:
                self.complete(w, payload)

    @rule(w=writers, create_now=st.booleans())
    def rotate_rename(self, w, create_now):
        """logrotate `create`, Docker json-file, kubelet: rename, the writer ends its line, reopens."""
        if not self.can_rotate(w) or not os.path.exists(w.path):
            return
        self.last_action_poll = False
        self.rotations += 1
        w.shift_rotated()
        os.rename(w.path, w.rotated_path(1))
        w.file.path = w.rotated_path(1)
        w.rotated.insert(0, w.file)
        w.finish_all(path=w.rotated_path(1))
        w.file = ModelFile(w.path)
        w.hole_at = None
        w.seen = w.seen_line = False
        if create_now:
            open(w.path, 'ab').close()

    @rule(w=writers, append=st.booleans())
    def copytruncate(self, w, append):
        """logrotate `copytruncate`; a writer without O_APPEND then writes past a NUL hole."""
        if not self.can_rotate(w, by_copy=True) or not os.path.exists(w.path):
            return
        self.last_action_poll = False
        self.rotations += 1
        w.finish_all()
        w.shift_rotated()
        shutil.copyfile(w.path, w.rotated_path(1))
        w.rotated.insert(0, ModelFile(w.rotated_path(1), w.file.lines))
        size = os.path.getsize(w.path)
        os.truncate(w.path, 0)
        w.file = ModelFile(w.path)
        w.hole_at = None if append else size
        w.seen = w.seen_line = False

    @rule(w=writers)
    def truncate(self, w):
        """Someone empties the live file (`> agent.log`): what was not read yet is gone."""
        if not os.path.exists(w.path):
            return
        self.last_action_poll = False
        w.finish_all()
        self.lose(w.file)
        os.truncate(w.path, 0)
        w.file = ModelFile(w.path)
        w.hole_at = None
        w.seen = w.seen_line = False  # its first bytes changed: a rename before the next run loses it

    @rule(w=writers)
    def delete_current(self, w):
        """The live file is deleted (a container removed); the writer starts a new one later."""
        if not os.path.exists(w.path):
            return
        self.last_action_poll = False
        w.finish_all()
        self.lose(w.file)
        os.unlink(w.path)
        w.file = ModelFile(w.path)
        w.hole_at = None
        w.seen = w.seen_line = False

    @rule(w=writers)
    def delete_oldest_rotated(self, w):
        if not w.rotated:
            return
        self.last_action_poll = False
        model_file = w.rotated.pop()
        self.lose(model_file)
        os.unlink(model_file.path)

    @rule()
    def poll(self):
        self.poll_once()
        self.last_action_poll = True

    @rule()
    def restart(self):
        """The Agent restarts the check: a new tailer from the saved state."""
        self.last_action_poll = False
        self.tailer = self.new_tailer(self.tailer.dump_state())

    @rule()
    def crash(self):
        """A crash after the run submitted its lines, before it saved its offsets."""
        if not self.last_action_poll or self.state_before_poll.get('first') is not None:
            return
        self.last_action_poll = False
        self.crashes += 1
        self.may_repeat.update(self.last_poll_lines)
        self.tailer = self.new_tailer(self.state_before_poll)
        for w in self.writer_list:
            w.seen = w.seen_line = False  # the state restored may predate them


TailerMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get('TAILER_MODEL_EXAMPLES', 300)),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
test_tailer_model = TailerMachine.TestCase
