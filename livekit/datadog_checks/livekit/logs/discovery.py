# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Globs -> the regular files to consider, at most `max_files`, each once, by its real path.

What cannot be looked at goes to `errors` as (path, reason); a pattern that matches nothing is an
error only when its directory cannot be read (a file not written yet is normal).
"""

import errno
import glob
import os
import re
import stat

_GLOB_MAGIC = re.compile(r'[*?[]')


def reason(error):
    """The message of an OSError as the service check shows it."""
    return error.strerror or str(error)


def discover(patterns, max_files, errors):
    """{(dev, ino): (real path, stat)} of the regular files matched, and the paths that could not be
    looked at (a known file there is kept as it is)."""
    found, failed, seen = {}, set(), set()
    for pattern in patterns:
        # Not recursive: `**` could walk a symlink loop for ever.
        paths = []
        for path in glob.iglob(pattern):
            if len(seen) + len(paths) >= max_files:
                errors.append((pattern, 'matches more than {} files; the others are not read'.format(max_files)))
                break
            if path not in seen:
                paths.append(path)
        else:
            if not paths:
                _check_unmatched(pattern, errors)
        seen.update(paths)
        for path in sorted(paths):
            try:
                st = os.stat(path)
            except OSError as e:
                if e.errno != errno.ENOENT:  # ENOENT: deleted since the glob, or a dangling link
                    errors.append((path, reason(e)))
                failed.add(path)
                continue
            if not stat.S_ISREG(st.st_mode):
                kind = 'is a directory, not a log file' if stat.S_ISDIR(st.st_mode) else 'is not a regular file'
                errors.append((path, kind))
                continue
            # Known by its real path: a rotated file is looked for next to it, not next to a symlink
            # (`/var/log/containers/*.log` link to the files kubelet rotates in `/var/log/pods`).
            found.setdefault((st.st_dev, st.st_ino), (os.path.realpath(path), st))
    return found, failed


def _check_unmatched(pattern, errors):
    """A pattern matched nothing: report it if that is because its directory cannot be read."""
    parts = pattern.split(os.sep)
    magic = [i for i, part in enumerate(parts) if _GLOB_MAGIC.search(part)]
    probe = os.sep.join(parts[: magic[0]]) or os.sep if magic else pattern
    try:
        if stat.S_ISDIR(os.stat(probe).st_mode):
            os.scandir(probe).close()
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ENOTDIR):
            errors.append((probe, reason(e)))
