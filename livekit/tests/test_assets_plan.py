# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog assets plan`: what `assets import` would create, derived from the asset files, and
what the percentiles it enables cost (`series.billable_series`)."""
import argparse
import copy
import json
import os
import re
import subprocess
import sys
from itertools import product

import pytest

from datadog_checks.livekit.cli.assets import AssetBundle, assets_root, register_cli
from datadog_checks.livekit.cli.plan import CONFIGURATION_KEYS, PLAN_KEYS, build_plan, metric_tag_configurations
from datadog_checks.livekit.cli.series import billable_series, series_by_metric
from datadog_checks.livekit.cli.validate import dashboard_metric_queries

BUNDLE = AssetBundle(assets_root())
BUDGET = 500


def run_cli(argv, capsys):
    parser = argparse.ArgumentParser(prog='livekit-datadog')
    register_cli(parser.add_subparsers(dest='command', required=True))
    args = parser.parse_args(argv)
    status = args.func(args)
    return status, capsys.readouterr().out


def with_dashboard(dashboard):
    """A copy of the packaged bundle whose only dashboard is `dashboard`."""
    bundle = copy.copy(BUNDLE)
    bundle.dashboards = [('assets/dashboards/mutated.json', dashboard)]
    return bundle


# --- An independent reading of the assets: every tag a percentile query reads ----------------------

# `p95:livekit.llm.ttft{$agent_name,model:x} by {model}` (dashboards and monitors alike)
PERCENTILE_TERM = re.compile(r'\bp\d+:(livekit\.[\w.]+)\{([^}]*)\}(?:\s*by\s*\{([^}]*)\})?')


def percentile_reads(bundle):
    """{metric: tag keys} of every percentile read of the bundle's dashboards and monitors."""
    queries = []
    for _, dashboard in bundle.dashboards:
        prefixes = {v['name']: v.get('prefix') for v in dashboard.get('template_variables', [])}
        queries += [(query, prefixes) for _, query in dashboard_metric_queries(dashboard)]
    queries += [(asset['definition'].get('query', ''), {}) for _, asset in bundle.monitors]
    read = {}
    for query, prefixes in queries:
        for metric, scope, group in PERCENTILE_TERM.findall(query):
            keys = read.setdefault(metric, set())
            keys.update(k.strip() for k in group.split(',') if k.strip())
            for term in (t.strip() for t in scope.split(',')):
                if term.startswith('$'):
                    keys.add(prefixes[term[1:].split('.')[0]])
                elif ':' in term:
                    keys.add(term.lstrip('!').split(':')[0])
    return read


def unplanned_reads(bundle, configurations):
    """What a percentile query of `bundle` reads that `configurations` leaves out."""
    planned = {c['metric']: set(c['tags']) for c in configurations}
    problems = []
    for metric, keys in sorted(percentile_reads(bundle).items()):
        if metric not in planned:
            problems.append('{} is read at a percentile but has no configuration'.format(metric))
        elif keys - planned[metric]:
            problems.append('{} is read by {} but only {} are queryable'.format(metric, sorted(keys), sorted(planned[metric])))
    return problems


def test_every_percentile_read_is_in_the_plan():
    configurations = metric_tag_configurations(BUNDLE)
    assert unplanned_reads(BUNDLE, configurations) == []
    # and nothing more: only metrics read at a percentile get percentiles
    assert {c['metric'] for c in configurations} == set(percentile_reads(BUNDLE))
    for configuration in configurations:
        assert configuration['metric_type'] == 'distribution' and configuration['include_percentiles'] is True
        assert BUNDLE.metrics[configuration['metric']].startswith('Distribution:')


def test_the_packaged_plan():
    """The plan of the packaged assets: a change that makes a tag queryable shows here (and costs)."""
    assert {c['metric']: c['tags'] for c in metric_tag_configurations(BUNDLE)} == {
        'livekit.agent.process.initialize_time': ['agent_name'],
        'livekit.conversation.cost': [],
        'livekit.conversation.duration': ['agent_name'],
        'livekit.eou.end_of_utterance_delay': ['agent_name'],
        'livekit.eou.on_user_turn_completed_delay': ['agent_name'],
        'livekit.eou.transcription_delay': ['agent_name'],
        'livekit.llm.ttft': ['model'],
        'livekit.server.jitter': [],
        'livekit.server.packet_loss': [],
        'livekit.server.rtt': [],
        'livekit.tool.duration': ['agent_name', 'tool_name'],
        'livekit.tts.ttfb': ['agent_name'],
        'livekit.turn.e2e_latency': ['agent_name', 'method'],
        'livekit.turn.playback_latency': ['agent_name'],
    }


def test_the_plan_follows_a_mutated_dashboard():
    dashboard = copy.deepcopy(BUNDLE.dashboards[0][1])
    text = json.dumps(dashboard)
    text = text.replace(
        'p95:livekit.llm.ttft{$model}', 'p95:livekit.llm.ttft{$agent_name,$model,$language} by {provider}'
    )
    # a new percentile widget query on a metric that no asset read at a percentile so far
    text = text.replace('avg:livekit.llm.duration{', 'p99:livekit.llm.duration{')
    text = text.replace('p95:livekit.conversation.duration{$agent_name}', 'p95:livekit.conversation.duration{close_reason:error}')
    mutated = with_dashboard(json.loads(text))

    # The packaged plan leaves out what the mutated dashboard reads: the independent check says so.
    problems = unplanned_reads(mutated, metric_tag_configurations(BUNDLE))
    assert any(p.startswith('livekit.llm.ttft is read by') for p in problems), problems
    assert 'livekit.llm.duration is read at a percentile but has no configuration' in problems
    assert any(p.startswith('livekit.conversation.duration is read by') for p in problems), problems

    # The plan of the mutated assets follows.
    plan = {c['metric']: c['tags'] for c in metric_tag_configurations(mutated)}
    assert unplanned_reads(mutated, metric_tag_configurations(mutated)) == []
    assert set(plan['livekit.llm.ttft']) == {'agent_name', 'model', 'language', 'provider'}
    # every read of llm.duration counts, its avg siblings too: the configuration governs all of them
    assert 'livekit.llm.duration' in plan and {'agent_name', 'model', 'service', 'host'} <= set(plan['livekit.llm.duration'])
    assert plan['livekit.conversation.duration'] == ['agent_name', 'close_reason']


def test_an_avg_query_of_a_planned_metric_keeps_its_tags_queryable():
    """A tag configuration decides the queryable tags of every aggregation, not only the percentiles."""
    dashboard = copy.deepcopy(BUNDLE.dashboards[0][1])
    text = json.dumps(dashboard).replace('avg:livekit.tts.ttfb{$agent_name}', 'avg:livekit.tts.ttfb{$agent_name,$model,$language}')
    plan = {c['metric']: c['tags'] for c in metric_tag_configurations(with_dashboard(json.loads(text)))}
    assert plan['livekit.tts.ttfb'] == ['agent_name', 'language', 'model']


def test_a_monitor_group_by_is_planned():
    bundle = copy.copy(BUNDLE)
    monitors = copy.deepcopy(BUNDLE.monitors)
    for _, asset in monitors:
        asset['definition']['query'] = asset['definition']['query'].replace(
            'p95:livekit.turn.e2e_latency{*} by {agent_name}', 'p95:livekit.turn.e2e_latency{*} by {agent_name,service}'
        )
    bundle.monitors = monitors
    plan = {c['metric']: c['tags'] for c in metric_tag_configurations(bundle)}
    assert plan['livekit.turn.e2e_latency'] == ['agent_name', 'method', 'service']


# --- The command --------------------------------------------------------------------------------


def test_plan_json_contract(capsys):
    status, out = run_cli(['assets', 'plan', '--enable-percentiles', '--json'], capsys)

    assert status == 0
    plan = json.loads(out)
    assert tuple(plan) == PLAN_KEYS
    assert plan['dashboards'] == [d['title'] for _, d in BUNDLE.dashboards]
    assert plan['monitors'] == [a['definition']['name'] for _, a in BUNDLE.monitors]
    assert plan['metric_tag_configurations'] == metric_tag_configurations(BUNDLE)
    for configuration in plan['metric_tag_configurations']:
        assert tuple(configuration) == CONFIGURATION_KEYS


def test_plan_without_percentiles_configures_nothing(capsys):
    status, out = run_cli(['assets', 'plan', '--json'], capsys)
    assert status == 0
    assert json.loads(out)['metric_tag_configurations'] == []

    status, text = run_cli(['assets', 'plan'], capsys)
    assert status == 0
    assert 'LiveKit Overview' in text and 'Metric tag configurations: none' in text


def test_plan_tables(capsys):
    status, text = run_cli(['assets', 'plan', '--enable-percentiles'], capsys)

    assert status == 0
    assert 'Monitors ({})'.format(len(BUNDLE.monitors)) in text
    row = next(line for line in text.splitlines() if 'livekit.llm.ttft' in line)
    assert row.split() == ['livekit.llm.ttft', 'distribution', 'on', 'model']


def test_plan_from_an_empty_folder(tmp_path):
    """The installed command, from a folder with no assets: the package's own copy is read, no key needed."""
    script = 'from datadog_checks.livekit.cli import main; raise SystemExit(main())'
    result = subprocess.run(
        [sys.executable, '-c', script, 'assets', 'plan', '--enable-percentiles', '--json'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={'PATH': '/usr/bin:/bin', **{k: v for k, v in os.environ.items() if k == 'PYTHONPATH'}},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)['metric_tag_configurations'] == metric_tag_configurations(BUNDLE)


def test_help_says_what_is_billed(capsys):
    for argv in (['assets', 'plan', '--help'], ['assets', 'import', '--help']):
        with pytest.raises(SystemExit):
            run_cli(argv, capsys)
        text = ' '.join(capsys.readouterr().out.split())
        assert '5 series per value combination of its queryable tags' in text
        assert 'every subset' in text


# --- The series arithmetic ----------------------------------------------------------------------


def test_billable_series_counts_gauges_counts_and_distributions():
    contexts = {
        ('livekit.llm.requests', 'count', frozenset({'model:a', 'agent_name:x'})),
        ('livekit.llm.requests', 'count', frozenset({'model:b', 'agent_name:x'})),
        ('livekit.agent.worker.load', 'gauge', frozenset({'host:h'})),
        ('livekit.llm.duration', 'distribution', frozenset({'model:a'})),
        ('livekit.llm.duration', 'distribution', frozenset({'model:b'})),
    }
    assert series_by_metric(contexts) == {'livekit.llm.requests': 2, 'livekit.agent.worker.load': 1, 'livekit.llm.duration': 10}
    assert billable_series(contexts) == 13
    # repeated contexts count once, a list as well as a set
    assert billable_series(list(contexts) * 2) == 13


def test_billable_series_counts_percentiles_over_every_subset_of_the_queryable_tags():
    # 2 agents x 3 models, plus a tag that is not queryable (language) and one constant (host)
    contexts = {
        ('livekit.llm.ttft', 'distribution', frozenset({'agent_name:' + a, 'model:' + m, 'language:' + l, 'host:h'}))
        for a, m, l in product('xy', 'abc', ('python', 'node'))
    }
    def plan(tags, percentiles=True):
        return [{'metric': 'livekit.llm.ttft', 'metric_type': 'distribution', 'include_percentiles': percentiles, 'tags': tags}]

    # unconfigured: 5 per combination of all its tags (12)
    assert billable_series(contexts) == 60
    # configured without percentiles: 5 per combination of the queryable tags (6)
    assert billable_series(contexts, plan(['agent_name', 'model'], percentiles=False)) == 30
    # percentiles: 5 x (1 + 2 + 3 + 6) more
    assert billable_series(contexts, plan(['agent_name', 'model'])) == 30 + 5 * 12
    # a constant tag doubles the percentile series (every subset with and without it)
    assert billable_series(contexts, plan(['agent_name', 'host', 'model'])) == 30 + 5 * 24
    # the plan as `assets plan --json` prints it works too
    assert billable_series(contexts, {'metric_tag_configurations': plan(['agent_name', 'model'])}) == 90
    # no queryable tag: one combination, the empty subset only
    assert billable_series(contexts, plan([])) == 5 + 5


def test_a_context_without_a_tag_of_the_subset_counts_with_the_tags_it_has():
    contexts = {
        ('livekit.turn.e2e_latency', 'distribution', frozenset({'agent_name:x', 'method:measured'})),
        ('livekit.turn.e2e_latency', 'distribution', frozenset({'agent_name:x'})),
    }
    plan = [{'metric': 'livekit.turn.e2e_latency', 'metric_type': 'distribution', 'include_percentiles': True, 'tags': ['agent_name', 'method']}]
    # combinations: {} 1, {agent_name} 1, {method} 2 (measured, none), {agent_name, method} 2
    assert billable_series(contexts, plan) == 5 * 2 + 5 * 6


def test_billable_series_rejects_an_unknown_type():
    with pytest.raises(ValueError, match='histogram'):
        billable_series({('livekit.x', 'histogram', frozenset())})


# --- The budget ----------------------------------------------------------------------------------

AGENTS = (('support-agent', 'support', 'python'), ('sales-agent', 'sales', 'node'))
LLMS = (('gpt-4o-mini', 'openai'), ('gpt-4.1', 'openai'), ('claude-haiku-4-5', 'anthropic'))
TTSES = (('sonic-2', 'cartesia'), ('eleven_flash_v2_5', 'elevenlabs'))
STTS = (('nova-3', 'deepgram'), ('gpt-4o-transcribe', 'openai'))
HOST = 'host:node-1'


def reference_contexts():
    """The distributions of the plan as a reference deployment submits them: two named agents (one
    service each, one Python, one Node), each using every one of 3 LLM models, 2 TTS and 2 STT (the
    most combinations), one host; the Agent's `host` and `service` tags included."""
    contexts = set()

    def add(metric, *tags):
        contexts.add((metric, 'distribution', frozenset(tags)))

    for agent, service, language in AGENTS:
        base = ('agent_name:' + agent, 'service:' + service, 'language:' + language, HOST)
        for model, provider in LLMS:
            add('livekit.llm.ttft', *base, 'model:' + model, 'provider:' + provider)
        for model, provider in TTSES:
            add('livekit.tts.ttfb', *base, 'model:' + model, 'provider:' + provider)
        for model, provider in STTS:
            for metric in ('livekit.eou.end_of_utterance_delay', 'livekit.eou.transcription_delay'):
                add(metric, *base, 'model:' + model, 'provider:' + provider)
        for method in ('measured', 'estimated'):
            add('livekit.turn.e2e_latency', *base, 'method:' + method)
        add('livekit.conversation.duration', *base)
        add('livekit.conversation.cost', *base)
        # the companion's: four tools per agent, the turn-taking latencies
        for tool in ('lookup_account', 'check_outage', 'book_appointment', 'transfer_call'):
            add('livekit.tool.duration', *base, 'tool_name:' + tool)
        add('livekit.eou.on_user_turn_completed_delay', *base)
        add('livekit.turn.playback_latency', *base)
        add('livekit.agent.process.initialize_time', 'agent_name:' + agent, 'service:' + service, HOST, 'endpoint:http://' + agent)
    for metric in ('livekit.server.jitter', 'livekit.server.packet_loss', 'livekit.server.rtt'):
        for kind in ('audio', 'video'):
            add(metric, HOST, 'endpoint:http://livekit:6789/metrics', 'kind:' + kind)
    return contexts


def test_the_plan_stays_within_the_series_budget():
    contexts = reference_contexts()
    plan = build_plan(BUNDLE, enable_percentiles=True)
    assert {metric for metric, _, _ in contexts} == {c['metric'] for c in plan['metric_tag_configurations']}

    planned = billable_series(contexts, plan)
    # What the old `--enable-percentiles` did to the same metrics: percentiles with every tag queryable.
    every_tag = [
        dict(c, tags=sorted({tag.split(':')[0] for m, _, tags in contexts if m == c['metric'] for tag in tags}))
        for c in plan['metric_tag_configurations']
    ]
    before = billable_series(contexts, every_tag)

    assert planned <= BUDGET, series_by_metric(contexts, plan)
    assert before > 10 * planned, (before, planned)
