# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Re-capture every committed LiveKit sample from the real producers (`make fixtures`).

    .venv/bin/python -m lk_producers.capture_all [--only STEP ...]

Steps, each writing into tests/fixtures/ (see fixtures/logs/README.md):
  old-python   livekit-agents 1.0.23 to 1.7.1 workers            python-<version>.jsonl / .expected.json
  node         the @livekit/agents worker of tools/node          node-<version>.jsonl / .expected.json
  python       the livekit-agents worker of .venv (1.8.9), INFO  python-<version>-session.jsonl / .totals.json
               and DEBUG                                         python-<version>-session-debug.jsonl / ...
  worker       the worker's HTTP endpoints                       fixtures/openmetrics/ (capture_worker_metrics.py)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
LOGS = HERE.parent / 'fixtures' / 'logs'
NODE_MODULES = REPO / 'tools' / 'node' / 'node_modules'


def generate(log_name: str, totals_name: str, *generator_args: str) -> None:
    """Run the session generator; keep its log and LiveKit's totals under the fixture names."""
    with tempfile.TemporaryDirectory() as work:
        command = [sys.executable, '-m', 'lk_producers.session_generator', '--out', work, '--seed', '1']
        subprocess.run(command + list(generator_args), check=True)
        shutil.copyfile(Path(work) / 'agent.log', LOGS / log_name)
        shutil.copyfile(Path(work) / 'totals.json', LOGS / totals_name)
    print(f'captured {LOGS / log_name}')


def capture_node() -> None:
    version = json.loads((NODE_MODULES / '@livekit' / 'agents' / 'package.json').read_text())['version']
    name = f'node-{version}'
    args = ['--worker', 'node', '--conversations', '10', '--concurrency', '10', '--time-scale', '0.5']
    generate(f'{name}.jsonl', f'{name}.expected.json', *args)


def capture_python() -> None:
    from livekit.agents import __version__

    common = ['--time-scale', '1.0', '--agent-name', 'support-agent']
    info, debug = f'python-{__version__}-session', f'python-{__version__}-session-debug'
    generate(f'{info}.jsonl', f'{info}.totals.json', '--conversations', '12', '--concurrency', '12', *common)
    debug_args = ['--conversations', '4', '--concurrency', '4', '--log-level', 'DEBUG', *common]
    generate(f'{debug}.jsonl', f'{debug}.totals.json', *debug_args)


def capture_old_python() -> None:
    subprocess.run([sys.executable, '-m', 'lk_producers.capture_old_versions'], check=True)


def capture_worker_endpoints() -> None:
    subprocess.run([sys.executable, '-m', 'lk_producers.capture_worker_metrics'], check=True)


STEPS = {
    'old-python': capture_old_python,
    'node': capture_node,
    'python': capture_python,
    'worker': capture_worker_endpoints,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', nargs='+', choices=list(STEPS), default=list(STEPS))
    args = parser.parse_args(argv)
    LOGS.mkdir(parents=True, exist_ok=True)
    for step in args.only:
        STEPS[step]()


if __name__ == '__main__':
    main()
