# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""File faults: each gives an entry in `errors` with the path and the reason; the other files go on.

Permission checks do not apply to root, and the tests run as root: the permission test runs the tailer
in a forked child that drops to the `nobody` user, so the kernel really refuses the file (no mock).
"""

import json
import os
import shutil
import tempfile
import warnings

import pytest

from datadog_checks.livekit.logs.tailer import LogTailer, TailerOptions

NOBODY = 65534


def good(n):
    return b'{"message": "TTS metrics", "level": "INFO", "ttfb": 0.063, "n": %d}' % n


def write(path, *ns):
    with open(path, 'ab') as f:
        f.write(b''.join(good(n) + b'\n' for n in ns))


def tailer_for(*patterns, **options):
    options.setdefault('start_position', 'beginning')
    tailer = LogTailer([str(p) for p in patterns], TailerOptions(**options))
    tailer.restore(None)
    return tailer


def poll(tailer):
    return [item for batch in tailer.poll() for item in batch.lines]


def open_fds(under):
    """File descriptors of this process open on files below `under` (other tests' sockets and
    threads open and close theirs at any time, so the process total is no measure)."""
    count = 0
    for fd in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink('/proc/self/fd/' + fd)
        except OSError:  # closed meanwhile
            continue
        count += target.startswith(str(under))
    return count


def run_as_nobody(*patterns):
    """Tail `patterns` in a forked child that runs as the nobody user; return its lines and errors.

    A fork, not a new interpreter: the interpreter lives under /root, which nobody may not read. The
    child only reads files and writes JSON to a pipe (imported native libraries keep idle threads,
    hence the warning about forking a multi-threaded process, silenced here).
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'This process .* is multi-threaded', DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            tailer = tailer_for(*patterns)
            lines = [item.decode() for item in poll(tailer)]
            with os.fdopen(write_end, 'w') as out:
                json.dump({'lines': lines, 'errors': tailer.errors, 'uid': os.getuid()}, out)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as source:
        result = source.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(result)


@pytest.fixture
def shared_dir():
    """A directory the nobody user can enter (pytest's tmp_path is private to root)."""
    path = tempfile.mkdtemp(prefix='livekit-faults-')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason='drops privileges, which needs root')
def test_permission_denied(shared_dir):
    readable = os.path.join(shared_dir, 'a.log')
    secret = os.path.join(shared_dir, 'b.log')
    locked_dir = os.path.join(shared_dir, 'locked')
    write(readable, 1, 2)
    write(secret, 3)
    os.chmod(readable, 0o644)
    os.chmod(secret, 0o600)  # root's; nobody may not read it
    os.mkdir(locked_dir, 0o700)
    write(os.path.join(locked_dir, 'c.log'), 4)

    result = run_as_nobody(os.path.join(shared_dir, '*.log'), os.path.join(locked_dir, '*.log'))
    assert result['uid'] == NOBODY
    assert result['lines'] == [good(1).decode(), good(2).decode()]
    assert sorted(map(tuple, result['errors'])) == [(secret, 'Permission denied'), (locked_dir, 'Permission denied')]


def test_a_directory_where_a_file_was_expected(tmp_path):
    write(tmp_path / 'a.log', 1)
    (tmp_path / 'b.log').mkdir()
    tailer = tailer_for(tmp_path / '*.log')
    assert poll(tailer) == [good(1)]
    assert tailer.errors == [(str(tmp_path / 'b.log'), 'is a directory, not a log file')]


def test_a_known_file_replaced_by_a_directory(tmp_path):
    write(tmp_path / 'b.log', 1)
    tailer = tailer_for(tmp_path / '*.log', max_bytes_per_run=1024)
    write(tmp_path / 'a.log', 2)
    assert sorted(poll(tailer)) == [good(1), good(2)]
    write(tmp_path / 'b.log', 3)
    os.unlink(tmp_path / 'b.log')
    (tmp_path / 'b.log').mkdir()
    write(tmp_path / 'a.log', 4)
    assert poll(tailer) == [good(4)]
    # Line 3 was written after the last run looked at the file: nobody can know it was lost.
    assert tailer.errors == [(str(tmp_path / 'b.log'), 'is a directory, not a log file')]
    assert [f['path'] for f in tailer.dump_state()['files']] == [str(tmp_path / 'a.log')]


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / 'pipe.log')
    write(tmp_path / 'a.log', 1)
    tailer = tailer_for(tmp_path / '*.log')
    assert poll(tailer) == [good(1)]
    assert tailer.errors == [(str(tmp_path / 'pipe.log'), 'is not a regular file')]


def test_a_file_deleted_while_being_read_is_read_to_its_end(tmp_path):
    path = tmp_path / 'a.log'
    write(path, *range(20000))  # several batches
    write(tmp_path / 'b.log', -1)
    tailer = tailer_for(tmp_path / '*.log', read_block_bytes=64 * 1024)
    got = []
    for batch in tailer.poll():
        got.extend(batch.lines)
        if path.exists() and batch.path == str(path):
            path.unlink()  # the open descriptor keeps the data: nothing is lost
    assert sorted(got) == sorted(good(n) for n in range(-1, 20000))
    assert tailer.errors == []
    assert poll(tailer) == [] and tailer.errors == []
    assert [f['path'] for f in tailer.dump_state()['files']] == [str(tmp_path / 'b.log')]


def test_a_file_deleted_before_it_was_read_to_its_end(tmp_path):
    path = tmp_path / 'a.log'
    write(path, *range(2000))
    tailer = tailer_for(tmp_path / '*.log', max_bytes_per_run=16 * 1024)
    got = poll(tailer)
    unread = path.stat().st_size - sum(len(item) + 1 for item in got)
    path.unlink()
    write(tmp_path / 'b.log', -1)
    assert poll(tailer) == [good(-1)]
    assert tailer.errors == [
        (str(path), 'deleted or replaced before it was read to the end ({} bytes unread)'.format(unread))
    ]
    assert poll(tailer) == [] and tailer.errors == []


def test_a_pattern_matching_thousands_of_files(tmp_path):
    for n in range(3000):
        write(tmp_path / 'agent-{:04d}.log'.format(n), n)
    tailer = tailer_for(tmp_path / '*.log')
    got, most = [], 0
    for batch in tailer.poll():
        most = max(most, open_fds(tmp_path))
        got.extend(batch.lines)
    assert sorted(got) == sorted(good(n) for n in range(3000))
    assert 1 <= most <= 2  # one file open at a time (two while a rotated copy is drained)
    assert open_fds(tmp_path) == 0
    assert len(tailer.dump_state()['files']) == 3000
    assert poll(tailer) == [] and tailer.errors == []


def test_more_files_than_the_limit(tmp_path):
    for n in range(30):
        write(tmp_path / 'agent-{:02d}.log'.format(n), n)
    tailer = tailer_for(tmp_path / '*.log', max_files=20)
    assert len(poll(tailer)) == 20
    assert tailer.errors == [(str(tmp_path / '*.log'), 'matches more than 20 files; the others are not read')]


def test_symlink_loops(tmp_path):
    write(tmp_path / 'a.log', 1)
    os.symlink('self.log', tmp_path / 'self.log')
    os.symlink('ping.log', tmp_path / 'pong.log')
    os.symlink('pong.log', tmp_path / 'ping.log')
    (tmp_path / 'dir').mkdir()
    os.symlink('..', tmp_path / 'dir' / 'up')  # a directory loop: patterns are not recursive
    tailer = tailer_for(tmp_path / '*.log', tmp_path / 'dir' / '*' / '*' / '*' / '*' / '*.txt')
    assert poll(tailer) == [good(1)]
    loop = 'Too many levels of symbolic links'
    assert sorted(tailer.errors) == [
        (str(tmp_path / 'ping.log'), loop),
        (str(tmp_path / 'pong.log'), loop),
        (str(tmp_path / 'self.log'), loop),
    ]


def test_a_dangling_link_is_not_an_error(tmp_path):
    write(tmp_path / 'a.log', 1)
    os.symlink('gone.log.target', tmp_path / 'gone.log')  # a pod's log link whose file was removed
    tailer = tailer_for(tmp_path / '*.log')
    assert poll(tailer) == [good(1)]
    assert tailer.errors == []
