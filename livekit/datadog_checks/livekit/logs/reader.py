# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Bytes -> complete lines, from a known file's offset, within the poll's byte budget.

The offset always sits at the end of a complete line: a partial last line is read again next poll.
A line over `max_line_bytes` is skipped and counted without being held in memory (`skip` marks an
offset inside one). NUL-filled holes (a writer that kept its offset after a copytruncate) are
skipped, sparse ones at once with SEEK_DATA. When the budget runs out, only the end of the line in
progress is read.
"""

import errno
import os
from dataclasses import dataclass

from .framing import count

FINISH_LINE_BLOCK_BYTES = 64 * 1024
_SEEK_DATA = getattr(os, 'SEEK_DATA', None)  # Linux, macOS


@dataclass
class LineBatch:
    path: str
    lines: list  # payloads, framing removed, without the newline


def data_from(fd, pos):
    """Where data starts at or after `pos`, past a sparse hole; None when the hole runs to the end
    (`pos` itself where the filesystem cannot tell)."""
    if _SEEK_DATA is None:
        return pos
    try:
        return max(pos, os.lseek(fd, pos, _SEEK_DATA))
    except OSError as e:
        return None if e.errno == errno.ENXIO else pos


def end_offset(path, max_line_bytes):
    """(offset, skip) just after the last complete line of a file."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        end = os.fstat(fd).st_size
        pos = end
        while pos > 0 and end - pos <= max_line_bytes:
            size = min(FINISH_LINE_BLOCK_BYTES, pos)
            pos -= size
            nl = os.pread(fd, size, pos).rfind(b'\n')
            if nl >= 0:
                return pos + nl + 1, False
        return (0, False) if pos == 0 else (end, True)
    finally:
        os.close(fd)


def rebuild(f, fd, start, options):
    """Read again the parts of the lines that were pending when the state was saved."""
    carry = b''
    pos = start
    while pos < f.offset:
        chunk = os.pread(fd, min(options.read_block_bytes, f.offset - pos), pos)
        if not chunk:
            break
        pos += len(chunk)
        lines = (carry + chunk).split(b'\n')
        carry = lines.pop()
        if len(carry) > options.max_line_bytes:
            carry = b''  # an oversized line: its rest comes as a line of its own, which does not parse
        f.framer.rebuild([line.lstrip(b'\0') for line in lines])
    f.framer.end_rebuild()


def read_lines(f, fd, run, options):
    """Yield batches from the offset on, taking from `run.budget`; return (reached EOF, the partial
    line left at EOF)."""
    stats = run.stats
    max_line = options.max_line_bytes
    read_block = options.read_block_bytes
    read_pos = f.offset
    start = None if f.skip else data_from(fd, read_pos)
    if start is not None:
        read_pos = f.offset = start  # a line starts here: a sparse hole before it is skipped
    carry = b''  # the line in progress, without leading NULs
    carry_start = read_pos  # file offset of carry[0]
    while True:
        finishing = run.budget <= 0
        if finishing and not carry:
            return False, b''
        want = FINISH_LINE_BLOCK_BYTES if finishing else min(read_block, run.budget)
        chunk = os.pread(fd, want, read_pos)
        if not chunk:
            return True, carry
        if finishing and b'\n' in chunk:
            chunk = chunk[: chunk.index(b'\n') + 1]  # only the end of the line in progress
        read_pos += len(chunk)
        run.budget -= len(chunk)
        stats.bytes_read += len(chunk)
        if f.skip:
            nl = chunk.find(b'\n')
            if nl < 0:
                f.offset = read_pos
                continue
            f.skip = False
            chunk = chunk[nl + 1 :]
            f.offset = carry_start = read_pos - len(chunk)
        data = carry + chunk if carry else chunk
        nl = data.rfind(b'\n')
        if nl < 0:
            carry = data
        else:
            lines = data.split(b'\n')
            carry = lines.pop()
            base = carry_start
            f.offset = carry_start = carry_start + nl + 1
            if b'\0' in data:
                lines = [line.lstrip(b'\0') for line in lines]
            # Only the first line can be longer than what was just read.
            if len(lines[0]) > max_line or (len(chunk) > max_line and max(map(len, lines)) > max_line):
                kept = [line for line in lines if len(line) <= max_line]
                count(stats.rejected, 'oversized', len(lines) - len(kept))
                lines = kept
            payloads = f.framer.frame(lines, base, stats.rejected)
            if payloads:
                stats.lines += len(payloads)
                yield LineBatch(f.path, payloads)
        if carry[:1] == b'\0':
            carry, carry_start, read_pos = _skip_hole(fd, carry, carry_start, read_pos)
            if not f.skip:
                f.offset = carry_start  # the hole is consumed: the next line starts after it
            if carry is None:
                return True, b''
        if len(carry) > max_line:
            count(stats.rejected, 'oversized')
            carry = b''
            f.offset = carry_start = read_pos
            f.skip = True
        elif finishing and nl >= 0:
            return False, b''


def _skip_hole(fd, carry, carry_start, read_pos):
    """Drop the NULs starting the line in progress: the hole a writer that kept its offset leaves
    after a copytruncate. On a sparse file, jump over it. None when it runs to the end of the file."""
    rest = carry.lstrip(b'\0')
    carry_start += len(carry) - len(rest)
    if not rest:
        data = data_from(fd, read_pos)
        if data is None:
            return None, carry_start, read_pos
        carry_start = read_pos = data
    return rest, carry_start, read_pos


def finish(f, tail, stats):
    """A rotated file that stayed idle at its end: deliver what it still holds, then leave it."""
    rejected = stats.rejected
    lines = f.framer.frame([tail], f.offset, rejected) if tail else []
    lines.extend(f.framer.flush(rejected))
    f.offset = f.size
    f.done = True
    if lines:
        stats.lines += len(lines)
        yield LineBatch(f.path, lines)
