# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Line framing: turns the complete physical lines of one file into log payloads.

- `json`: one payload a line, as livekit-agents' JsonFormatter or pino write them.
- `docker`: Docker's json-file driver, `{"log":"...\\n","stream":"stderr","time":"..."}`. Docker
  cuts a line longer than 16 KiB into entries whose `log` has no trailing newline; they are joined.
- `cri`: the Kubernetes CRI format, `<RFC3339Nano> <stream> <P|F> <payload>`; `P` parts are joined
  up to the next `F` of the same stream.

`auto` picks one per file from its first line. A joined line never holds more than `max_line`
bytes: past that its parts are dropped and the line is counted `oversized` when it ends. Parts
whose line has not ended yet stay pending; the state keeps only where they start, so after a
restart they are read again from the file (`rebuild`) instead of living in the persistent cache.
"""

import re

from datadog_checks.base.utils.serialization import json

FORMATS = ('auto', 'json', 'docker', 'cri')
STREAMS = ('stdout', 'stderr')
MAX_LINE_BYTES = 1024 * 1024

_DOCKER_START = b'{"log":'
_CRI_START = re.compile(
    rb'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) (?:stdout|stderr) [PF](?:[ :]|$)'
)
_CRI_STREAMS = {b'stdout': 'stdout', b'stderr': 'stderr'}


def detect_format(line):
    """The framing of a file whose first non-blank line is `line`."""
    if line.startswith(_DOCKER_START):
        return 'docker'
    if _CRI_START.match(line):
        return 'cri'
    return 'json'


def parse_docker(line):
    """(stream, payload, complete) of a json-file entry, or None when the line is not one."""
    try:
        entry = json.loads(line)
        stream = entry['stream']
        text = entry['log']
        payload = text.encode()
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeError):
        return None
    if stream not in STREAMS:
        return None
    if text.endswith('\n'):
        return stream, payload[:-1], True
    return stream, payload, False


def parse_cri(line):
    """(stream, payload, complete) of a CRI line, or None when the line is not one."""
    fields = line.split(b' ', 3)
    if len(fields) < 3:
        return None
    stream = _CRI_STREAMS.get(fields[1])
    tag = fields[2]
    if tag != b'F' and tag != b'P':
        # The tag field may carry more tags after a colon; the first one says partial or full.
        tag = tag.split(b':', 1)[0]
    if stream is None or (tag != b'F' and tag != b'P'):
        return None
    return stream, fields[3] if len(fields) == 4 else b'', tag == b'F'


_PARSERS = {'docker': parse_docker, 'cri': parse_cri}


def count(rejected, reason, lines=1):
    rejected[reason] = rejected.get(reason, 0) + lines


class _Pending:
    """The parts of one stream's line that has not ended yet."""

    __slots__ = ('start', 'parts', 'size', 'oversized')

    def __init__(self, start, parts=(), oversized=False):
        self.start = start  # file offset at or before the first part, to rebuild it after a restart
        self.parts = None if parts is None else list(parts)  # None: still to be rebuilt from the file
        self.size = 0
        self.oversized = oversized


class Framer:
    """The framing state of one file."""

    def __init__(self, log_format='auto', max_line=MAX_LINE_BYTES):
        self.configured = log_format
        self.format = None if log_format == 'auto' else log_format
        self.max_line = max_line
        self.pending = {}
        self._rebuilding = {}

    def frame(self, lines, base, rejected):
        """Payloads of the complete physical `lines` (the first starts at file offset `base`).

        Blank lines are dropped; lines that are not valid for the framing are counted in
        `rejected['framing']`, joined lines over `max_line` in `rejected['oversized']`.
        """
        if self.format is None:
            first = next((line for line in lines if line), None)
            if first is None:
                return []
            self.format = detect_format(first)
        if self.format == 'json':
            return list(filter(None, lines))
        return self._frame_entries(lines, base, rejected, _PARSERS[self.format])

    def _frame_entries(self, lines, base, rejected, parse):
        out = []
        pending = self.pending
        max_line = self.max_line
        for line in lines:
            if not line:
                continue
            entry = parse(line)
            if entry is None:
                count(rejected, 'framing')
                continue
            stream, payload, complete = entry
            if not complete:
                self._add_part(stream, payload, base)
                continue
            if stream in pending:
                payload = self._join(pending.pop(stream), payload)
            if payload is None or len(payload) > max_line:
                count(rejected, 'oversized')
            elif payload:
                out.append(payload)
        return out

    def _add_part(self, stream, payload, base):
        part = self.pending.get(stream)
        if part is None:
            part = self.pending[stream] = _Pending(base)
        if part.oversized:
            return
        part.size += len(payload)
        if part.size > self.max_line:
            # Drop what we hold: the line is counted as oversized when it ends.
            part.oversized = True
            part.parts = []
            part.size = 0
        else:
            part.parts.append(payload)

    def _join(self, part, last):
        if part.oversized or part.size + len(last) > self.max_line:
            return None
        part.parts.append(last)
        return b''.join(part.parts)

    def flush(self, rejected):
        """The pending lines as they are (their file ended for good); oversized ones are counted."""
        out = []
        for part in self.pending.values():
            if part.oversized:
                count(rejected, 'oversized')
            elif part.parts:
                out.append(b''.join(part.parts))
        self.pending = {}
        return out

    def drop(self, rejected):
        """Forget the pending lines (their file was truncated or deleted), counting them."""
        for part in self.pending.values():
            count(rejected, 'oversized' if part.oversized else 'unfinished')
        self.pending = {}

    def copy(self):
        other = Framer(self.configured, self.max_line)
        other.format = self.format
        for stream, part in self.pending.items():
            clone = other.pending[stream] = _Pending(part.start, part.parts, part.oversized)
            clone.size = part.size
        return other

    # State: where pending lines start, never their bytes.

    def dump(self):
        return {
            'format': self.format,
            'pending': {stream: [part.start, part.oversized] for stream, part in self.pending.items()},
        }

    def restore(self, state):
        fmt = state['format']
        if fmt not in FORMATS[1:] and fmt is not None:
            raise ValueError('unknown framing {!r}'.format(fmt))
        if self.configured != 'auto' and fmt != self.configured:
            return  # log_format changed since the state was saved: the configured one wins
        self.format = fmt
        for stream, (start, oversized) in state['pending'].items():
            if stream not in STREAMS or type(start) is not int or start < 0 or type(oversized) is not bool:
                raise ValueError('bad pending line {!r}'.format(stream))
            self.pending[stream] = _Pending(start, () if oversized else None, oversized)

    def begin_rebuild(self):
        """The file offset from which restored pending lines must be read again (None: nothing to do).

        The lines from there to the saved offset go to `rebuild`, then `end_rebuild` is called.
        """
        self._rebuilding = {stream: part for stream, part in self.pending.items() if part.parts is None}
        if not self._rebuilding:
            return None
        for part in self._rebuilding.values():
            part.parts = []
        return min(part.start for part in self._rebuilding.values())

    def rebuild(self, lines):
        """Collect again the parts of the pending lines. Everything here was framed before the
        restart: only parts of lines that had not ended are taken, and an ended line resets its
        stream (the parts before it were not the pending ones)."""
        parse = _PARSERS.get(self.format)
        rebuilding = self._rebuilding
        for line in lines:
            entry = parse(line) if line and parse is not None else None
            if entry is None or entry[0] not in rebuilding:
                continue
            stream, payload, complete = entry
            part = rebuilding[stream]
            if complete:
                part.parts = []
                part.size = 0
            else:
                part.parts.append(payload)
                part.size += len(payload)

    def end_rebuild(self):
        for part in self._rebuilding.values():
            if part.size > self.max_line:
                part.oversized = True
                part.parts = []
                part.size = 0
        self._rebuilding = {}
