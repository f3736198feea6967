# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Real LiveKit agent logs, produced offline, with LiveKit's own totals next to them.

Runs the real `livekit-agents` worker (`python -m livekit.agents start scripted_agent.py`, JSON
logs on stdout, job processes forwarding their records with the job fields) and offers it
conversations through a stand-in for the server's dispatch. Each conversation is a real
AgentSession with scripted audio and local STT/LLM/TTS (see README.md).

    python -m lk_producers.session_generator --out DIR [--conversations N] [--seed S]
        [--log-level INFO|DEBUG] [--time-scale F] [--concurrency C] [--agent-name NAME]
        [--instrument MODULE:FUNC] [--tools] [--python PY | --worker node [--node-modules DIR]]

`lk_producers` (this folder) must be installed in the generator's venv and in the one of `--python`
(`make` and the scripts that create the other venvs do it: `pip install -e livekit/tests/producers`).

Writes DIR/agent.log (the worker's stdout, byte for byte) and DIR/totals.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

from lk_producers import generator_env
from lk_producers.dispatch_server import DispatchServer
from lk_producers.node_totals import build_node_totals
from lk_producers.plans import build_plans
from lk_producers.totals import build_totals

API_KEY = 'devkey'
API_SECRET = 'generator-secret-not-used-by-any-server-0123456789'
ID_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'  # LiveKit's shortuuid alphabet
# how long a worker may take to stop after SIGTERM before it is killed: every job is over by then,
# and a Node 1.9 worker can wait 60 s for a warm process that never acknowledges the shutdown
WORKER_EXIT_TIMEOUT_S = 15
DRAIN_GRACE_S = 3  # how long the worker may drain on its own connection before the server closes it


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, required=True, help='output directory')
    parser.add_argument('--conversations', type=int, default=20)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--log-level', default='INFO', choices=['INFO', 'DEBUG'])
    parser.add_argument('--time-scale', type=float, default=0.1, help='multiplies every simulated delay')
    parser.add_argument('--concurrency', type=int, default=10, help='conversations running at once')
    parser.add_argument('--agent-name', default='support-agent', help="the worker's agent name ('' = none)")
    parser.add_argument(
        '--instrument',
        help='MODULE:FUNC called as FUNC(session, job_info) right after each AgentSession is created',
    )
    parser.add_argument(
        '--tools',
        action='store_true',
        help='the LLM calls scripted function tools on the first user turn (ok, ToolError, exception, cancelled)',
    )
    parser.add_argument('--timeout', type=float, default=600, help='give up after this many seconds')
    parser.add_argument(
        '--python', default=sys.executable, help='interpreter whose livekit-agents runs the worker (default: this one)'
    )
    parser.add_argument(
        '--worker', choices=['python', 'node'], default='python', help='a livekit-agents or an @livekit/agents worker'
    )
    parser.add_argument(
        '--node-modules', type=Path, default=REPO / 'tools' / 'node' / 'node_modules', help='where @livekit/agents is'
    )
    args = parser.parse_args(argv)
    if args.conversations < 0 or args.concurrency < 1 or args.time_scale <= 0:
        parser.error('--conversations must be >= 0, --concurrency >= 1 and --time-scale > 0')
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)  # the worker runs in another directory
    return args


def job_specs(plans: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Job, dispatch and room identifiers in LiveKit's formats, stable for a given seed."""
    rng = random.Random(f'ids/{seed}')

    def sid(prefix: str) -> str:
        return prefix + ''.join(rng.choice(ID_ALPHABET) for _ in range(12))

    return [
        {
            'id': sid('AJ_'),
            'dispatch_id': sid('AD_'),
            'room_id': sid('RM_'),
            'room': f'call-{rng.getrandbits(32):08x}',
            'metadata': json.dumps(plan),
        }
        for plan in plans
    ]


def python_worker(args: argparse.Namespace, url: str, env: dict[str, str]) -> tuple[list[str], Path]:
    """The production start command of the installed livekit-agents release, and its directory."""
    app = str(HERE / 'scripted_agent.py')
    python = args.python
    # `python -m livekit.agents start` on 1.7.1 and 1.8.9; 1.5.17's `__main__` has only
    # `download-files`, 1.1.5 to 1.3.12 have none: they start through `cli.run_app` in the app
    has_module_cli = (
        subprocess.run(
            [python, '-m', 'livekit.agents', 'start', '--help'],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        ).returncode
        == 0
    )
    start = [python, '-m', 'livekit.agents', 'start', app] if has_module_cli else [python, app, 'start']
    _require_producers(python)
    # the app imports `lk_producers` from the worker's venv; the current directory is for the
    # `--instrument` module
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [os.getcwd(), env.get('PYTHONPATH')]))
    env.pop('LIVEKIT_LOG_LEVEL', None)
    # 1.3.x to 1.5.x parse `start --url/--api-key/--api-secret` but never hand them to the
    # AgentServer (`ws_url is required, or add LIVEKIT_URL in your environment`): they read the
    # environment only, as most deployments set it. Same values, so other releases are unaffected.
    env.update(LIVEKIT_URL=url, LIVEKIT_API_KEY=API_KEY, LIVEKIT_API_SECRET=API_SECRET)
    credentials = ['--url', url, '--api-key', API_KEY, '--api-secret', API_SECRET]
    return start + credentials + ['--log-level', args.log_level], HERE


def _require_producers(python: str) -> None:
    probe = subprocess.run([python, '-c', 'import lk_producers'], capture_output=True, check=False)
    if probe.returncode != 0:
        raise SystemExit(
            f'{python} cannot import lk_producers, which the worker runs: install it into that venv '
            f'with `{python} -m pip install -e {HERE}`'
        )


def node_worker(args: argparse.Namespace, url: str, env: dict[str, str]) -> tuple[list[str], Path]:
    """`node capture_node.mjs start`, the production command of an @livekit/agents app."""
    env['LK_NODE_MODULES'] = str(args.node_modules.resolve())
    env['LK_GENERATOR_HEALTH_PORT'] = str(_free_port())  # LiveKit ignores port 0
    env.pop('LOG_LEVEL', None)
    credentials = ['--url', url, '--api-key', API_KEY, '--api-secret', API_SECRET]
    command = ['node', str(HERE / 'capture_node.mjs'), 'start'] + credentials
    return command + ['--log-level', args.log_level.lower()], args.node_modules.parent


def worker_environment(args: argparse.Namespace, jobs_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[generator_env.JOBS_DIR] = str(jobs_dir)
    env[generator_env.AGENT_NAME] = args.agent_name
    env[generator_env.IDLE_PROCESSES] = str(min(args.concurrency, max(args.conversations, 1)))
    env.pop(generator_env.INSTRUMENT, None)
    if args.instrument:
        env[generator_env.INSTRUMENT] = args.instrument
    env.pop('LIVEKIT_REGION_NAME', None)  # not LiveKit Cloud
    return env


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    jobs_dir = out / '.jobs'
    shutil.rmtree(jobs_dir, ignore_errors=True)
    plans = build_plans(args.conversations, args.seed, args.time_scale, tools=args.tools)
    specs = job_specs(plans, args.seed)
    dispatch = DispatchServer(specs, concurrency=args.concurrency, api_key=API_KEY, api_secret=API_SECRET)
    await dispatch.start()
    started = time.monotonic()
    env = worker_environment(args, jobs_dir)
    command, cwd = (node_worker if args.worker == 'node' else python_worker)(args, dispatch.url, env)
    with open(out / 'agent.log', 'wb') as stdout, open(out / 'worker.stderr', 'wb') as stderr:
        worker = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        try:
            await _wait_for_jobs(dispatch, worker, jobs_dir, args.timeout)
        finally:
            await _stop_worker(worker, dispatch)
    elapsed = time.monotonic() - started

    records = [json.loads(p.read_text()) for p in sorted(jobs_dir.glob('*.json'))]
    missing = {s['id'] for s in specs} - {r['job_id'] for r in records}
    if missing:
        raise SystemExit(f'no LiveKit totals for jobs {sorted(missing)}; see {out / "worker.stderr"} and agent.log')
    generator = {
        'conversations': args.conversations,
        'seed': args.seed,
        'log_level': args.log_level,
        'time_scale': args.time_scale,
        'concurrency': args.concurrency,
        'agent_name': args.agent_name,
        'instrument': args.instrument,
        **({'tools': True} if args.tools else {}),
        'worker': args.worker,
        'log_file': 'agent.log',
    }
    totals = (build_node_totals if args.worker == 'node' else build_totals)(records, generator)
    (out / 'totals.json').write_text(json.dumps(totals, indent=1, sort_keys=True) + '\n')
    shutil.rmtree(jobs_dir)
    if (out / 'worker.stderr').stat().st_size == 0:
        (out / 'worker.stderr').unlink()
    return {'seconds': round(elapsed, 2), 'lines': _count_lines(out / 'agent.log')}


async def _wait_for_jobs(
    dispatch: DispatchServer, worker: subprocess.Popen[bytes], jobs_dir: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not dispatch.all_finished.is_set():
        for written in jobs_dir.glob('*.json'):
            dispatch.finish(written.stem)
        if worker.poll() is not None:
            raise SystemExit(f'the worker exited early with code {worker.returncode}')
        if time.monotonic() > deadline:
            raise SystemExit(f'conversations still running after {timeout:.0f} s')
        try:
            await asyncio.wait_for(dispatch.all_finished.wait(), 0.5)
        except TimeoutError:
            pass


async def _stop_worker(worker: subprocess.Popen[bytes], dispatch: DispatchServer) -> None:
    """SIGTERM, as an orchestrator stops a worker: it drains and logs its own shutdown. The
    dispatch connection then closes from the server side too, as LiveKit's does: the Node worker
    otherwise waits for its WebSocket close handshake to time out (30 s)."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + WORKER_EXIT_TIMEOUT_S
    closed = False
    while worker.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        if not closed and time.monotonic() > deadline - WORKER_EXIT_TIMEOUT_S + DRAIN_GRACE_S:
            await dispatch.aclose()
            closed = True
    if worker.poll() is None:
        worker.kill()
        worker.wait()
    await dispatch.aclose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def _count_lines(path: Path) -> int:
    with open(path, 'rb') as f:
        return sum(1 for _ in f)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    summary = asyncio.run(run(args))
    print(json.dumps({'out': str(args.out), **summary}))


if __name__ == '__main__':
    main()
