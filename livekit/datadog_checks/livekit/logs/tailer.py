# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Tail the agent log files: one poll is discovery -> rotation -> reader, under the run's byte budget.

- discovery.py: the patterns -> the files to consider;
- identity.py: fingerprint and inode, is this the file we knew;
- rotation.py: known files vs found ones (renamed, copied, truncated, deleted);
- reader.py: bytes -> complete lines (holes, oversized lines, a partial last line);
- state.py: the saved offsets.

Each poll reads about `max_bytes_per_run` bytes (plus the rest of the line in progress); the rest is
left for the next polls. One file is open at a time (two while a rotated copy is drained).
"""

import errno
import logging
import os
import time
from dataclasses import dataclass, field

from ..config_models import defaults
from .discovery import discover, reason
from .framing import MAX_LINE_BYTES, Framer
from .identity import Head, rewritten
from .reader import LineBatch, finish, read_lines, rebuild
from .rotation import Rotation
from .state import dump_state, load_state

__all__ = ['LineBatch', 'LogTailer', 'TailStats', 'TailerOptions']


@dataclass(frozen=True)
class TailerOptions:
    """Every setting of the tailer. The first three are instance options: their defaults and bounds
    are those of the config model (spec.yaml), which validates them. The others are internal limits."""

    log_format: str = field(default_factory=defaults.instance_log_format)
    start_position: str = field(default_factory=defaults.instance_start_position)  # for files of the first run
    max_bytes_per_run: int = field(default_factory=defaults.instance_max_bytes_per_run)
    max_line_bytes: int = MAX_LINE_BYTES  # longer lines are skipped and counted
    read_block_bytes: int = 1024 * 1024  # one read, and at most one batch
    max_files: int = 10000  # over all patterns
    fingerprint_bytes: int = 1024  # the first bytes that identify a file
    rotated_idle_seconds: float = 300  # a rotated file unchanged this long is read to its end and left
    done_retention_seconds: float = 3600  # a file left is remembered this long, so it is not taken for new
    max_copy_candidates: int = 100  # files of a directory compared with a truncated one, to find its copy

    def framer(self):
        return Framer(self.log_format, self.max_line_bytes)


@dataclass
class TailStats:
    """What the last poll did."""

    bytes_read: int = 0
    lines: int = 0
    rejected: dict = field(default_factory=dict)  # reason (oversized, framing, unfinished) -> lines
    backlog_bytes: int = 0  # bytes of the known files still to read
    files: int = 0


@dataclass
class _Run:
    """What one poll shares between its steps."""

    budget: int
    now: float = field(default_factory=time.time)
    stats: TailStats = field(default_factory=TailStats)
    errors: list = field(default_factory=list)  # (path, reason)


class LogTailer:
    def __init__(self, patterns, options=None, log=None):
        self.patterns = list(patterns)
        self.options = options if options is not None else TailerOptions()
        self.log = log or logging.getLogger(__name__)
        self.errors = []  # of the last poll
        self.stats = TailStats()  # of the last poll
        self._files = {}  # (dev, ino) -> TrackedFile
        self._first = self.options.start_position  # start of the files found by the next poll; None: their start

    # State

    def restore(self, state):
        """Resume from a `dump_state()`; None for the very first run.

        A state this class cannot read is discarded with a warning; the files that exist now are then
        read from their end, so that nothing already counted is counted again.
        """
        self._files = {}
        if state is None:
            self._first = self.options.start_position
            return
        try:
            files, first = load_state(state, self.options.framer)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            self.log.warning('Discarding the saved agent log offsets (%s); existing files are read from their end', e)
            self._first = 'end'
            return
        self._files = files
        self._first = first

    def dump_state(self):
        """JSON-serializable; the offsets cover exactly the lines yielded so far."""
        return dump_state(self._first, self._files.values())

    # Polling

    def poll(self):
        """Read about `max_bytes_per_run` bytes over all matched files; yield batches of lines."""
        run = _Run(self.options.max_bytes_per_run)
        self.errors, self.stats = run.errors, run.stats
        found, failed = discover(self.patterns, self.options.max_files, run.errors)
        first, self._first = self._first, None
        Rotation(self._files, run, self.options).reconcile(found, failed, first)
        # Rotated files first: their lines were written before those of the file that took their place.
        for f in sorted(self._files.values(), key=lambda f: (not f.rotated, f.mtime, f.path)):
            if self._files.get(f.key) is f and not f.done:
                yield from self._read_guarded(f, run)
        live = [f for f in self._files.values() if not f.done]
        run.stats.files = len(live)
        run.stats.backlog_bytes = sum(max(0, f.size - f.offset) for f in live)

    def _read_guarded(self, f, run):
        try:
            yield from self._read(f, run)
        except OSError as e:
            run.errors.append((f.path, reason(e)))
        except Exception as e:  # a bug must not stop the other files
            self.log.exception('Unexpected error while reading %s', f.path)
            run.errors.append((f.path, 'unexpected error: {!r}'.format(e)))

    def _read(self, f, run):
        try:
            fd = os.open(f.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return  # moved or deleted since the glob: the next poll finds it or forgets it
            raise
        try:
            st = os.fstat(fd)
            head = Head(fd, self.options.fingerprint_bytes)
            if (st.st_dev, st.st_ino) != f.key or rewritten(f, st, head):
                return  # replaced or truncated since the glob: the next poll sorts it out
            f.size, f.mtime = st.st_size, st.st_mtime
            start = f.framer.begin_rebuild()
            if start is not None:
                rebuild(f, fd, start, self.options)
            eof, tail = yield from read_lines(f, fd, run, self.options)
            f.read_mtime = st.st_mtime
            if head.size > f.fp_len:
                f.fp, f.fp_len = head.fingerprint(), head.size
            if eof and not f.matched and run.now - st.st_mtime >= self.options.rotated_idle_seconds:
                yield from finish(f, tail, run.stats)
        finally:
            os.close(fd)
