# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""What the integration adds to a Datadog bill: billable custom-metric series for a few deployment shapes.

    .venv/bin/python bench/series_budget.py [--results bench/RESULTS.md]

Each shape runs the real `livekit-datadog check --json` (two runs) on real captured LiveKit output: the
DEBUG log of a real livekit-agents 1.8.9 worker (`python-1.8.9-session-debug.jsonl`; one copy per agent
name, its agent name and job ids rewritten), the worker's `/`, `/worker` and `/metrics` answers and a
LiveKit server's `/metrics` payload (`livekit/tests/fixtures/openmetrics/`), served on 127.0.0.1. The
contexts it submits, with the `host` and `service` tags the Agent attaches, are counted with
`datadog_checks.livekit.cli.series` (Datadog's rules: a count or gauge 1 series per tag combination, a
distribution 5, percentiles 5 more per combination of every subset of the queryable tags), without and
with the percentile plan of `livekit-datadog assets plan --enable-percentiles`.

The largest shape cannot be captured here (20 agents, 10 LLM models): it is the reference's real
contexts with every `agent_name` value repeated for 20 names and every LLM model for 10 names, which
is what 20 agents that each use 10 LLM models submit, context for context.
"""

import argparse
import contextlib
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from datadog_checks.livekit.cli.assets import AssetBundle, assets_root
from datadog_checks.livekit.cli.plan import build_plan
from datadog_checks.livekit.cli.series import billable_series

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / 'livekit' / 'tests' / 'fixtures' / 'logs'
OPENMETRICS = ROOT / 'livekit' / 'tests' / 'fixtures' / 'openmetrics'
AGENT_LOG = LOGS / 'python-1.8.9-session-debug.jsonl'
CAPTURED_AGENT_NAME = b'support-agent'
HOST = 'voice-node-1'
CLI = Path(sys.executable).with_name('livekit-datadog')
SECTION_START = '<!-- series-budget: written by bench/series_budget.py -->'
SECTION_END = '<!-- /series-budget -->'
LLM_METRICS = re.compile(r'^livekit\.llm\.')


class _Fixtures(http.server.BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        body, content_type = self.routes.get(self.path, (b'not found', 'text/plain'))
        self.send_response(200 if self.path in self.routes else 404)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_endpoints(agent_names):
    """The captured worker answers under `/<agent name>/` (its `/worker` naming that agent) and the
    server's under `/server/`, on one local port; yields its base URL."""
    prometheus = 'text/plain; version=0.0.4'
    worker = json.loads((OPENMETRICS / 'worker_info.json').read_text())
    routes = {'/server/metrics': ((OPENMETRICS / 'server.txt').read_bytes(), prometheus)}
    for name in agent_names:
        routes['/{}/'.format(name)] = (b'OK', 'text/plain; charset=utf-8')
        routes['/{}/worker'.format(name)] = (json.dumps(dict(worker, agent_name=name)).encode(), 'application/json')
        routes['/{}/metrics'.format(name)] = ((OPENMETRICS / 'worker_jobs_multiproc.txt').read_bytes(), prometheus)
    _Fixtures.routes = routes
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Fixtures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:{}'.format(server.server_address[1])
    finally:
        server.shutdown()


def agent_log(directory, index, agent_name):
    """The captured DEBUG log as agent `agent_name` wrote it: its name and its own job ids, and the
    3 LLM models of the issue's reference deployment (the capture's o4-mini requests as gpt-4.1)."""
    path = directory / '{}.jsonl'.format(agent_name)
    data = AGENT_LOG.read_bytes().replace(b'"' + CAPTURED_AGENT_NAME + b'"', json.dumps(agent_name).encode())
    data = data.replace(b'"o4-mini"', b'"gpt-4.1"')
    path.write_bytes(data.replace(b'"AJ_', '"AJ_{}x'.format(index).encode()))
    return path


def measured_contexts(work, agent_names, with_server):
    """(metric, type, tags) of everything two check runs submit, one instance per agent (and the server)."""
    work.mkdir()
    with serve_endpoints(agent_names) as url:
        instances = []
        for index, name in enumerate(agent_names):
            log = agent_log(work, index, name)
            instances.append(
                {
                    'log_paths': [str(log)],
                    'start_position': 'beginning',
                    'agent_health_endpoint': '{}/{}/'.format(url, name),
                    'agent_endpoint': '{}/{}/metrics'.format(url, name),
                    'service': name.replace('-agent', '-bot'),
                }
            )
        if with_server:
            instances.append({'server_endpoint': url + '/server/metrics'})
        contexts = set()
        for index, instance in enumerate(instances):
            config = work / 'conf-{}.yaml'.format(index)
            config.write_text('init_config: {}\ninstances:\n  - ' + json.dumps(instance) + '\n')
            command = [CLI, 'check', '--config', config, '--state-dir', work / 'state-{}'.format(index)]
            command += ['--runs', '2', '--interval', '0', '--json']
            result = json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)
            attached = ['host:' + HOST] + (['service:' + instance['service']] if 'service' in instance else [])
            for metric in result['metrics']:
                contexts.add((metric['name'], metric['type'], frozenset(metric['tags'] + attached)))
            for bucket in result['histogram_buckets']:
                contexts.add((bucket['name'], 'distribution', frozenset(bucket['tags'] + attached)))
    return contexts


def replicated(contexts, agents, llm_models):
    """The contexts of `agents` agents that each use `llm_models` LLM models, from measured ones."""
    agent_values = sorted({t for _, _, tags in contexts for t in tags if t.startswith('agent_name:')})
    model_values = sorted(
        {t for m, _, tags in contexts if LLM_METRICS.match(m) for t in tags if t.startswith('model:')}
    )
    result = set()
    for metric, metric_type, tags in contexts:
        variants = [set(tags)]
        if any(t in agent_values for t in tags):
            variants = [
                {t for t in v if t not in agent_values and not t.startswith('service:')}
                | {'agent_name:agent-{}'.format(i), 'service:bot-{}'.format(i)}
                for v in variants
                for i in range(agents)
            ]
        if LLM_METRICS.match(metric) and any(t in model_values for t in tags):
            variants = [
                {t for t in v if t not in model_values} | {'model:model-{}'.format(j)}
                for v in variants
                for j in range(llm_models)
            ]
        result.update((metric, metric_type, frozenset(v)) for v in variants)
    return result


def shape_row(name, contexts, plans):
    models = {
        kind: len(
            {t for m, _, tags in contexts if m.startswith('livekit.' + kind) for t in tags if t.startswith('model:')}
        )
        for kind in ('llm', 'tts', 'stt')
    }
    agents = len({t for _, _, tags in contexts for t in tags if t.startswith('agent_name:')})
    return {
        'shape': name,
        'agents': agents,
        'models': models,
        'contexts': len(contexts),
        'series': billable_series(contexts, plans['without']),
        'series_with_percentiles': billable_series(contexts, plans['with']),
        'series_every_tag_queryable': billable_series(contexts, every_tag_queryable(contexts)),
    }


def every_tag_queryable(contexts):
    """What the old `--enable-percentiles` did: percentiles on every distribution, every tag queryable."""
    distributions = sorted({m for m, t, _ in contexts if t == 'distribution'})
    return [
        {
            'metric': metric,
            'metric_type': 'distribution',
            'include_percentiles': True,
            'tags': sorted({t.split(':', 1)[0] for m, _, tags in contexts if m == metric for t in tags}),
        }
        for metric in distributions
    ]


def render(rows):
    lines = [
        SECTION_START,
        '## Billable series (issue 12, `bench/series_budget.py`)',
        '',
        'Custom-metric series Datadog bills for what the check really submits over two runs (host and service '
        'tags as the Agent attaches them), counted by `datadog_checks.livekit.cli.series`. "with percentiles" '
        'applies the plan of `livekit-datadog assets plan --enable-percentiles`; "every tag queryable" is what '
        'percentiles on every distribution with every tag queryable would cost.',
        '',
        '| shape | agents | LLM / TTS / STT models | contexts | series | with percentiles | every tag queryable |',
        '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
    ]
    for row in rows:
        models = row['models']
        lines.append(
            '| {shape} | {agents} | {llm} / {tts} / {stt} | {contexts:,} | {series:,} | {with_p:,} | {every:,} |'.format(
                shape=row['shape'],
                agents=row['agents'],
                contexts=row['contexts'],
                series=row['series'],
                with_p=row['series_with_percentiles'],
                every=row['series_every_tag_queryable'],
                **models,
            )
        )
    lines += ['', SECTION_END]
    return '\n'.join(lines) + '\n'


def record(results_path, section):
    text = results_path.read_text(encoding='utf-8') if results_path.is_file() else ''
    if SECTION_START in text:
        before, rest = text.split(SECTION_START, 1)
        text = before + section + rest.split(SECTION_END, 1)[1].lstrip('\n')
    else:
        text = text.rstrip('\n') + '\n\n' + section
    results_path.write_text(text, encoding='utf-8')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--results', type=Path, help='write the table into this file (bench/RESULTS.md)')
    parser.add_argument('--json', action='store_true', help='print the rows as one JSON list instead')
    args = parser.parse_args(argv)
    bundle = AssetBundle(assets_root())
    plans = {'without': build_plan(bundle), 'with': build_plan(bundle, enable_percentiles=True)}
    work = Path(tempfile.mkdtemp(prefix='livekit-series-'))
    try:
        small = measured_contexts(work / 'small', ['support-agent'], with_server=False)
        reference = measured_contexts(work / 'reference', ['support-agent', 'billing-agent'], with_server=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        shape_row('one small agent, its worker endpoints', small, plans),
        shape_row('reference: two agents, their workers, a LiveKit server', reference, plans),
        shape_row('20 agents x 10 LLM models, their workers, a LiveKit server', replicated(reference, 20, 10), plans),
    ]
    section = render(rows)
    sys.stdout.write(json.dumps(rows, indent=1) + '\n' if args.json else section)
    if args.results:
        record(args.results, section)
    return 0


if __name__ == '__main__':
    sys.exit(main())
