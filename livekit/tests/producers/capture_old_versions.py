# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Capture the log shapes of older livekit-agents releases, from the releases themselves.

For each release below, creates (once) the git-ignored venv `.venv-lk-<version>` at the repository
root with that release from PyPI and the producers (`pip install -e` of this folder, which the
release's worker imports), then runs the session generator with that venv's Python: the
release's own worker (`python scripted_agent.py start`), JsonFormatter, job log forwarding,
`metrics.log_metrics`, retry and error lines, on real AgentSessions. Writes
`tests/fixtures/logs/python-<version>.jsonl` (the worker's stdout) and
`python-<version>.expected.json` (LiveKit's own totals, see README.md next to this file).

    .venv/bin/python -m lk_producers.capture_old_versions [--versions 1.1.5 1.2.18 ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from lk_producers.capture_all import generate

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

# release -> exact requirements. 1.2.x to 1.5.x import httpx, which they got through openai 1.x/2.x
# at the time; today's openai (3.x, allowed by their `openai>=…`) no longer depends on it. 1.7 caps
# openai below 3 and gets httpx through it.
RELEASES = {
    '1.0.23': ['livekit-agents==1.0.23'],  # the newest 1.0.x, values inside the message text
    '1.1.5': ['livekit-agents==1.1.5'],  # the last release with values inside the message text
    '1.2.18': ['livekit-agents==1.2.18', 'httpx==0.28.1'],  # the newest 1.2.x, with model fields
    '1.3.12': ['livekit-agents==1.3.12', 'httpx==0.28.1'],  # the newest 1.3.x: AgentServer, ChatMessage.metrics
    '1.5.17': ['livekit-agents==1.5.17', 'httpx==0.28.1'],  # the newest 1.5.x: session.usage
    '1.6.10': ['livekit-agents==1.6.10'],  # the newest 1.6.x
    '1.7.1': ['livekit-agents==1.7.1'],  # the newest 1.7.x
}
GENERATOR_ARGS = ['--conversations', '10', '--time-scale', '0.5', '--concurrency', '10']


def ensure_venv(version: str) -> Path:
    venv = REPO / f'.venv-lk-{version}'
    python = venv / 'bin' / 'python'
    marker = venv / '.installed'
    requirements = [*RELEASES[version], '--editable', str(HERE)]  # the release and the producers
    if marker.exists() and marker.read_text().splitlines() == requirements:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    pip = [str(python), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check']
    subprocess.run(pip + requirements, check=True)
    marker.write_text('\n'.join(requirements) + '\n')
    return python


def capture(version: str) -> None:
    python = ensure_venv(version)
    name = f'python-{version}'
    generate(f'{name}.jsonl', f'{name}.expected.json', '--python', str(python), *GENERATOR_ARGS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--versions', nargs='+', default=list(RELEASES), choices=list(RELEASES))
    args = parser.parse_args(argv)
    for version in args.versions:
        capture(version)


if __name__ == '__main__':
    main()
