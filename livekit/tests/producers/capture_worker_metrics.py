# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Capture the HTTP endpoints of a REAL livekit-agents worker, for the test fixtures.

Starts `python agent.py start` (an `AgentServer` with a health port and a Prometheus port) pointed
at a LiveKit URL where nothing listens, once single-process and once with PROMETHEUS_MULTIPROC_DIR
set in the environment (setting only `prometheus_multiproc_dir=` yields an empty /metrics, see the
reference), waits until the idle job processes are initialized, then saves /metrics, / and /worker.

    .venv/bin/python -m lk_producers.capture_worker_metrics [--out DIR]

Re-run it for a new livekit-agents version; `running_worker()` is also used by a test.
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures' / 'openmetrics'
NODE_MODULES = Path(__file__).resolve().parents[3] / 'tools' / 'node' / 'node_modules'
AGENT_NAME = 'fixture-agent'
# Port 1 on loopback: connection refused at once, so the worker keeps retrying and stays up.
DEAD_LIVEKIT_URL = 'ws://127.0.0.1:1'

AGENT_PY = '''\
import os

from livekit.agents import AgentServer, JobContext, cli

server = AgentServer(
    port=int(os.environ["CAPTURE_HEALTH_PORT"]),
    prometheus_port=int(os.environ["CAPTURE_PROMETHEUS_PORT"]),
    num_idle_processes=1,
)


@server.rtc_session(agent_name=os.environ["CAPTURE_AGENT_NAME"])
async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()


if __name__ == "__main__":
    cli.run_app(server)
'''


# A worker without a LiveKit server never gets a job, so `lk_agents_active_job_count` has no sample.
# This runs LiveKit's own telemetry functions the way the worker's process executor does for two
# running jobs, in multi-process mode, and prints what the worker's /metrics handler would serve.
JOBS_PY = '''\
from livekit.agents.telemetry import metrics

metrics.proc_initialized(time_elapsed=0.7)
metrics.proc_initialized(time_elapsed=1.5)
metrics.job_started()
metrics.job_started()
metrics._update_worker_load(0.42)
metrics._update_child_proc_count()

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

registry = CollectorRegistry(auto_describe=True)
multiprocess.MultiProcessCollector(registry)
print(generate_latest(registry).decode(), end="")
'''


# A Node worker has the same health server (no Prometheus); `start` is its production mode.
AGENT_MJS = """\
import { cli, defineAgent, ServerOptions } from '@livekit/agents';
import { fileURLToPath } from 'node:url';

export default defineAgent({ entry: async () => {} });

cli.runApp(
  new ServerOptions({
    agent: fileURLToPath(import.meta.url),
    port: Number(process.env.CAPTURE_HEALTH_PORT),
    agentName: process.env.CAPTURE_AGENT_NAME,
  }),
);
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def http_get(url, timeout=2.0):
    """Return (status, content type, body text); (None, None, error) when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers.get('Content-Type'), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type'), e.read().decode()
    except OSError as e:
        return None, None, str(e)


def initialized_processes(metrics_text):
    match = re.search(r'^lk_agents_proc_initialize_duration_seconds_count\{[^}]*\} (\S+)$', metrics_text, re.M)
    return float(match.group(1)) if match else 0.0


def worker_env(**extra):
    """The environment of a worker: ours without LiveKit and multi-process settings, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(('LIVEKIT_', 'PROMETHEUS_MULTIPROC')) and key != 'prometheus_multiproc_dir'
    }
    env.update(
        LIVEKIT_URL=DEAD_LIVEKIT_URL,
        LIVEKIT_API_KEY='fixture-key',
        LIVEKIT_API_SECRET='fixture-secret-with-at-least-32-characters',
        CAPTURE_AGENT_NAME=AGENT_NAME,
        **extra,
    )
    return env


@contextlib.contextmanager
def started(command, workdir, env, is_ready, startup_timeout, grace=15.0):
    """Run `command` in its own session; return once `is_ready()`; stop it (and its children) after."""
    log_path = Path(workdir) / 'worker.log'
    with open(log_path, 'wb') as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not is_ready():
            if process.poll() is not None:
                raise RuntimeError('the worker exited with {}:\n{}'.format(process.returncode, log_path.read_text()))
            if time.monotonic() > deadline:
                raise RuntimeError(
                    'the worker was not ready within {} s:\n{}'.format(startup_timeout, log_path.read_text())
                )
            time.sleep(0.25)
        yield log_path
    finally:
        stop(process, grace)


@contextlib.contextmanager
def running_worker(workdir, multiprocess=False, python=sys.executable, startup_timeout=60.0):
    """Start a real Python worker in `workdir`; yield {'health': url, 'metrics': url, 'log': path}.

    Returns once /metrics shows an initialized idle process and a worker load sample.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / 'agent.py').write_text(AGENT_PY)
    health_port, prometheus_port = free_port(), free_port()
    env = worker_env(CAPTURE_HEALTH_PORT=str(health_port), CAPTURE_PROMETHEUS_PORT=str(prometheus_port))
    if multiprocess:
        multiproc_dir = workdir / 'prometheus-multiproc'
        multiproc_dir.mkdir(exist_ok=True)
        env['PROMETHEUS_MULTIPROC_DIR'] = str(multiproc_dir)
    urls = {
        'health': 'http://127.0.0.1:{}'.format(health_port),
        'metrics': 'http://127.0.0.1:{}/metrics'.format(prometheus_port),
    }

    def is_ready():
        status, _, body = http_get(urls['metrics'])
        return status == 200 and initialized_processes(body) >= 1 and 'lk_agents_worker_load{' in body

    with started([python, 'agent.py', 'start'], workdir, env, is_ready, startup_timeout) as log_path:
        yield dict(urls, log=log_path)


@contextlib.contextmanager
def running_node_worker(workdir, node_modules=NODE_MODULES, startup_timeout=60.0):
    """Start a real @livekit/agents (Node) worker in `workdir`; yield {'health': url, 'log': path}."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / 'agent.mjs').write_text(AGENT_MJS)
    (workdir / 'node_modules').symlink_to(node_modules, target_is_directory=True)
    health_port = free_port()
    health = 'http://127.0.0.1:{}'.format(health_port)

    def is_ready():
        return http_get(health + '/worker')[0] == 200

    env = worker_env(CAPTURE_HEALTH_PORT=str(health_port))
    # Not connected, a Node worker in production mode waits forever to drain: stop it at once.
    with started(['node', 'agent.mjs', 'start'], workdir, env, is_ready, startup_timeout, grace=0.5) as log_path:
        yield {'health': health, 'log': log_path}


def stop(process, grace=15.0):
    """SIGINT (a graceful drain), a second SIGINT (LiveKit's forced exit), then SIGKILL, to the
    worker's process group (its job processes included)."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGINT, 2.0), (signal.SIGKILL, None)):
        if process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            pass


def capture(out_dir, python):
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='livekit-capture-') as tmp:
        tmp = Path(tmp)
        with running_worker(tmp / 'single', python=python) as urls:
            _, metrics_type, metrics_single = http_get(urls['metrics'])
            health = http_get(urls['health'] + '/')
            info = http_get(urls['health'] + '/worker')
        with running_worker(tmp / 'multi', multiprocess=True, python=python) as urls:
            _, _, metrics_multi = http_get(urls['metrics'])
        (tmp / 'jobs').mkdir()
        metrics_jobs = subprocess.check_output(
            [python, '-c', JOBS_PY], env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp / 'jobs')), text=True
        )
        with running_node_worker(tmp / 'node') as urls:
            node_health = http_get(urls['health'] + '/')
            node_info = http_get(urls['health'] + '/worker')

    version = subprocess.check_output(
        [python, '-c', 'from livekit.agents import __version__; print(__version__)'], text=True
    ).strip()
    (out_dir / 'worker_single.txt').write_text(metrics_single)
    (out_dir / 'worker_multiproc.txt').write_text(metrics_multi)
    (out_dir / 'worker_jobs_multiproc.txt').write_text(metrics_jobs)
    (out_dir / 'worker_info.json').write_text(json.dumps(json.loads(info[2]), indent=2) + '\n')
    (out_dir / 'worker_http.json').write_text(
        json.dumps(
            {
                'health': {'status': health[0], 'content_type': health[1], 'body': health[2]},
                'worker': {'status': info[0], 'content_type': info[1]},
                'metrics': {'content_type': metrics_type},
            },
            indent=2,
        )
        + '\n'
    )
    (out_dir / 'node_worker_http.json').write_text(
        json.dumps(
            {
                'health': {'status': node_health[0], 'content_type': node_health[1], 'body': node_health[2]},
                'worker': {'status': node_info[0], 'content_type': node_info[1], 'body': json.loads(node_info[2])},
            },
            indent=2,
        )
        + '\n'
    )
    (out_dir / 'README.md').write_text(
        README.format(
            version=version,
            node_version=json.loads(node_info[2])['sdk_version'],
            date=datetime.date.today().isoformat(),
            python=sys.version.split()[0],
        )
    )


README = '''\
# OpenMetrics fixtures

`worker_*` files were captured from a REAL livekit-agents {version} worker (Python {python}, {date})
by `tests/producers/capture_worker_metrics.py`:

    .venv/bin/python livekit/tests/producers/capture_worker_metrics.py

The worker (`AgentServer(port=..., prometheus_port=..., num_idle_processes=1)`, agent name
`{agent}`) runs `python agent.py start` against `{url}` where nothing listens, so it has no jobs.

- `worker_single.txt`: `GET /metrics` in single-process mode (default registry: `lk_agents_*`
  plus the python/process collectors and `*_created` samples).
- `worker_multiproc.txt`: `GET /metrics` with `PROMETHEUS_MULTIPROC_DIR` set in the environment
  (only `lk_agents_*`, `lk_agents_worker_load` carries a `pid` label).
- `worker_jobs_multiproc.txt`: what that /metrics serves while two jobs run. A worker with no
  LiveKit server never gets a job, so this one comes from LiveKit's own telemetry functions
  (`livekit.agents.telemetry.metrics`: two `proc_initialized`, two `job_started`, a worker load of
  0.42, the child process count) called in one process with `PROMETHEUS_MULTIPROC_DIR` set, as
  the worker's process executor calls them, and collected the way its /metrics handler does.
- `worker_info.json`: `GET /worker` of the health server.
- `worker_http.json`: status, Content-Type and body of `GET /` (the health check), and the
  Content-Types of `/worker` and `/metrics`. (The 503 "failed to connect to livekit" answer cannot
  be captured: a worker that gives up connecting shuts down right after.)
- `node_worker_http.json`: `GET /` and `GET /worker` of a REAL @livekit/agents {node_version} (Node)
  worker, `node agent.mjs start` with the same agent name and LiveKit URL (`tools/node`). Its
  health check answers 503 `not connected to livekit` until it is connected, and its /worker has
  no load field. Node workers have no Prometheus endpoint.

`server.txt` and `sip.txt` are hand-written in the Prometheus text format (as Go's promhttp
writes it: empty HELP, counters without a `_total` suffix where LiveKit names them so), because
their Go binaries cannot run here. Names, types and labels are the exact ones of the reference
(LiveKit server v1.13.5 `pkg/telemetry/prometheus`, livekit/protocol `rpc/metrics.go` and
`webhook/stats.go`, livekit/sip `pkg/stats/monitor.go`), with the `node_id`/`node_type` const
labels. Buckets are the reference's where it lists them, else those of the LiveKit source of the
metric (packets, rooms, quality, data streams, psrpc, webhooks); the buckets of the session join
latency, twirp latency and forward latency histograms are not in the reference and are plausible
values. The `country` and `to` labels have two values for some series, so that dropping them has
to add samples up. Values are arbitrary; tests derive what they expect from these files.
'''.replace('{agent}', AGENT_NAME).replace('{url}', DEAD_LIVEKIT_URL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=FIXTURES, help='where to write the fixtures')
    parser.add_argument('--python', default=sys.executable, help='the Python that has livekit-agents')
    args = parser.parse_args()
    capture(args.out, args.python)
    print('wrote fixtures to {}'.format(args.out))


if __name__ == '__main__':
    main()
