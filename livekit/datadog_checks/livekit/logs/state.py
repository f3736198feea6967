# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The saved offsets: one record a known file, versioned, dumped and restored through the persistent cache.

A state this version cannot read raises on `load_state` (the tailer then discards it): a foreign or
corrupt state must never place an offset in the middle of a line or inside another file.
"""

from dataclasses import dataclass

from .framing import Framer

STATE_VERSION = 1
_FIRST_RUN = ('end', 'beginning', None)  # where the files found by the next poll start; None: at their start


@dataclass(slots=True, eq=False)  # compared by identity: a copy and its original may hold equal values
class TrackedFile:
    """What is known of one file: where it is, how it is recognized, where its next line starts."""

    path: str
    key: tuple  # (st_dev, st_ino)
    framer: Framer
    offset: int = 0  # where the next line starts (inside an oversized line when `skip`)
    size: int = 0  # at the last stat, for the backlog
    mtime: float = 0.0  # at the last stat
    read_mtime: float = 0.0  # when it was last read: a copy of it made later is at least as recent
    fp: str | None = None  # hash of the first `fp_len` bytes
    fp_len: int = 0
    skip: bool = False  # the offset is inside an oversized line: discard up to its newline
    rotated: bool = False  # moved away from its path: read before the files still in place
    done: bool = False  # a rotated file read to its end and idle: kept only so it is not taken for new
    matched: bool = True  # matched by a pattern in the last poll
    source: object = None  # while reconciling: the known file this new one is a copy of

    def reset(self, framer):
        self.offset = 0
        self.fp = None
        self.fp_len = 0
        self.skip = False
        self.rotated = False
        self.framer = framer

    def dump(self):
        return {
            'path': self.path,
            'dev': self.key[0],
            'ino': self.key[1],
            'offset': self.offset,
            'size': self.size,
            'mtime': self.mtime,
            'read_mtime': self.read_mtime,
            'fp': self.fp,
            'fp_len': self.fp_len,
            'skip': self.skip,
            'rotated': self.rotated,
            'done': self.done,
            'framing': self.framer.dump(),
        }

    @classmethod
    def load(cls, item, framer):
        """The file of a `dump()`; ValueError (or KeyError, TypeError) when the entry is not one."""
        key = (item['dev'], item['ino'])
        f = cls(item['path'], key, framer)
        f.offset, f.size, f.fp_len = item['offset'], item['size'], item['fp_len']
        f.mtime, f.read_mtime, f.fp = item['mtime'], item['read_mtime'], item['fp']
        f.skip, f.rotated, f.done = item['skip'], item['rotated'], item['done']
        ints = (key[0], key[1], f.offset, f.size, f.fp_len)
        if type(f.path) is not str or any(type(v) is not int or v < 0 for v in ints):
            raise ValueError('bad file entry')
        if any(not isinstance(v, (int, float)) for v in (f.mtime, f.read_mtime)):
            raise ValueError('bad file entry')
        if any(type(v) is not bool for v in (f.skip, f.rotated, f.done)):
            raise ValueError('bad file entry')
        if (f.fp is None) != (f.fp_len == 0) or not isinstance(f.fp, (str, type(None))):
            raise ValueError('bad fingerprint')
        f.framer.restore(item['framing'])
        return f


def dump_state(first, files):
    """JSON-serializable: the start of the next files found, and every known file."""
    return {'version': STATE_VERSION, 'first': first, 'files': [f.dump() for f in files]}


def load_state(state, new_framer):
    """({key: TrackedFile}, first) of a `dump_state()`; raises (KeyError, TypeError, ValueError,
    AttributeError) on a state of another version or a corrupt one."""
    if state.get('version') != STATE_VERSION:
        raise ValueError('unknown state version {!r}'.format(state.get('version')))
    first = state.get('first')
    if first not in _FIRST_RUN:
        raise ValueError('bad start position {!r}'.format(first))
    files = {}
    for item in state['files']:
        f = TrackedFile.load(item, new_framer())
        files[f.key] = f
    return files, first
