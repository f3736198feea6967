# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog assets validate` and the packaged dashboard and monitors themselves."""
import argparse
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from datadog_checks.livekit.cli import assets as assets_api
from datadog_checks.livekit.cli.api_schemas import PACKAGED_SCHEMAS, schema_subset, serialize
from datadog_checks.livekit.cli.assets import AssetBundle, assets_root, register_cli
from datadog_checks.livekit.cli.validate import (
    SEED_PANEL_TITLES,
    dashboard_problems,
    iter_widgets,
    load_spec,
    monitor_problems,
    schema_problems,
    schema_validator,
    to_json_schema,
    validate_bundle,
)

REPO = Path(__file__).resolve().parents[2]
# The whole spec, vendored; the CLI ships the subset of it that it needs (PACKAGED_SCHEMAS).
SPEC = str(REPO / 'vendor' / 'datadog-api' / 'v1-openapi.yaml')
SEED = Path(__file__).resolve().parent / 'fixtures' / 'seed' / 'livekit-dashboard.md'
BUNDLE = AssetBundle(assets_root())
DASHBOARD = BUNDLE.dashboards[0][1]


def widgets_by_title():
    return {d.get('title'): d for _, d in iter_widgets(DASHBOARD['widgets']) if d.get('title')}


def queries_of(definition):
    return [q['query'] for r in definition['requests'] for q in r.get('queries', [])]


def run_validate(capsys, *argv):
    parser = argparse.ArgumentParser(prog='livekit-datadog')
    register_cli(parser.add_subparsers(dest='command', required=True))
    args = parser.parse_args(['assets', 'validate', *argv])
    return args.func(args), capsys.readouterr().out


# --- The packaged assets --------------------------------------------------------------------------


def test_packaged_assets_are_valid():
    problems = [p for p in validate_bundle(BUNDLE, SPEC) if 'manifest.json does not declare' not in p]
    assert problems == []


def test_manifest_declares_every_asset():
    assert [p for p in validate_bundle(BUNDLE, SPEC) if 'manifest.json does not declare' in p] == []


def test_seed_titles_are_the_seed_headings():
    headings = re.findall(r'^#### (.+)$', SEED.read_text(encoding='utf-8'), re.M)
    assert tuple(h.strip() for h in headings) == SEED_PANEL_TITLES


def test_every_seed_panel_shows_what_the_seed_promises():
    w = widgets_by_title()
    tokens = queries_of(w['Total Token Usage (Input & Output)'])
    assert any('livekit.llm.tokens.input' in q for q in tokens) and any('livekit.llm.tokens.output' in q for q in tokens)

    rate = w['Total Error Rate']
    assert rate['type'] == 'query_value'
    formula = rate['requests'][0]['formulas'][0]
    assert formula['formula'] == '100 * (llm_errors + tts_errors) / (llm_ok + tts_ok + llm_errors + tts_errors)'
    assert formula['number_format']['unit']['unit_name'] == 'percent'
    names = {q['name']: q['query'] for q in rate['requests'][0]['queries']}
    assert 'livekit.llm.errors' in names['llm_errors'] and 'livekit.tts.errors' in names['tts_errors']
    assert 'livekit.llm.requests' in names['llm_ok'] and 'livekit.tts.requests' in names['tts_ok']

    assert 'by {provider,model}' in queries_of(w['Model Distribution'])[0]
    assert w['Requests Over Time']['requests'][0]['display_type'] == 'bars'
    assert queries_of(w['Latency (P95 Over Time)'])[0].startswith('p95:livekit.turn.e2e_latency{')
    assert queries_of(w['HTTP Request Duration (Over Time)'])[0].startswith('avg:livekit.llm.duration{')
    assert all('by {service,language}' in q for q in queries_of(w['Services and Languages Using LiveKit']))

    errors = w['Error Records']['requests'][0]
    assert errors['query']['data_source'] == 'logs_stream' and 'status:(error OR critical' in errors['query']['query_string']
    logs = w['Logs']['requests'][0]
    assert logs['query']['query_string'].startswith('source:livekit')

    assert queries_of(w['Number of Conversations Below Set Threshold Turns'])[0].startswith('sum:livekit.conversations.short{')
    turns = w['Average Number of Turns Per Conversation']['requests'][0]
    assert turns['formulas'][0]['formula'] == 'turns / conversations'
    assert [q['query'].split('{')[0] for q in turns['queries']] == ['sum:livekit.conversation.turns', 'count:livekit.conversation.turns']

    short_list = w['List of Conversations Below Set Threshold Turns (Trace ID)']['requests'][0]
    assert '@livekit.event:conversation.short' in short_list['query']['query_string']
    columns = [c['field'] for c in short_list['columns']]
    assert {'@livekit.job_id', '@livekit.room', '@livekit.turns', '@trace_id'} <= set(columns)

    assert queries_of(w['Average Latency of the TTS Over Time for the Voice Agent'])[0].startswith('avg:livekit.tts.ttfb{')


def test_the_groups_beyond_the_seed():
    groups = [w['definition']['title'] for w in DASHBOARD['widgets'] if w['definition']['type'] == 'group']
    for group in ('Voice latency chain', 'Speech and providers', 'Interruptions', 'Agent workers', 'LiveKit server', 'SIP'):
        assert group in groups
    w = widgets_by_title()
    for title, metric in (
        ('End of utterance delay', 'livekit.eou.end_of_utterance_delay'),
        ('Transcription delay', 'livekit.eou.transcription_delay'),
        ('LLM time to first token', 'livekit.llm.ttft'),
        ('TTS time to first byte', 'livekit.tts.ttfb'),
        ('End-to-end turn latency', 'livekit.turn.e2e_latency'),
    ):
        assert [q.split('{')[0] for q in queries_of(w[title])] == ['p50:' + metric, 'p95:' + metric], title
    assert w['LiveKit monitors']['query'] == 'tag:(integration:livekit)'
    assert w['Worker health']['check'] == 'livekit.agent.health'
    assert 'by {reason}' in queries_of(w['Call terminations by reason'])[0]
    assert 'by {state}' in queries_of(w['Participant joins by state'])[0]


def test_counts_are_bars_errors_warm_and_titles_left_aligned():
    for _, definition in iter_widgets(DASHBOARD['widgets']):
        if definition['type'] in ('timeseries', 'query_value', 'toplist', 'sunburst', 'query_table', 'list_stream'):
            assert definition.get('title_align') == 'left', definition['title']
            assert not re.search(r'\((ms|s|seconds|%)\)', definition['title']), definition['title']
        if definition['type'] == 'timeseries':
            request = definition['requests'][0]
            if any('errors' in q for q in queries_of(definition)) and request['display_type'] == 'bars':
                assert request['style']['palette'] == 'warm', definition['title']


def test_every_metric_query_honours_the_host_variable():
    # the other variables apply where the metric carries their tag: test_dashboard_filters.py; a metric
    # with percentiles has only the plan's tags queryable (`assets plan`): host only where planned
    from datadog_checks.livekit.cli.plan import metric_tag_configurations

    without_host = {c['metric'] for c in metric_tag_configurations(AssetBundle(assets_root())) if 'host' not in c['tags']}
    for where, definition in iter_widgets(DASHBOARD['widgets']):
        for query in queries_of(definition) if isinstance(definition.get('requests'), list) else []:
            if not set(re.findall(r':(livekit\.[\w.]+)\{', query)) <= without_host:
                assert '$host' in query, (where, query)


# --- The checks catch what they claim to catch -----------------------------------------------------


@pytest.fixture(scope='module')
def dashboard_schema():
    return schema_validator(SPEC, 'Dashboard')


@pytest.fixture(scope='module')
def monitor_schema():
    return schema_validator(SPEC, 'Monitor')


def broken_dashboard(change):
    dashboard = copy.deepcopy(DASHBOARD)
    change(dashboard)
    return dashboard


def first_timeseries(dashboard):
    return next(d for _, d in iter_widgets(dashboard['widgets']) if d['type'] == 'timeseries')


@pytest.mark.parametrize(
    'change, expected',
    [
        (lambda d: d.update(layout_type='grid'), "$.layout_type: 'grid' is not one of ['ordered', 'free']"),
        (lambda d: d['widgets'][1]['definition']['widgets'][0]['definition'].update(type='timeseriez'), "type 'timeseriez' is not valid here"),
        (lambda d: first_timeseries(d)['requests'][0].update(display_type='barz'), "'barz' is not one of ['area', 'bars', 'line', 'overlay']"),
        (lambda d: first_timeseries(d)['requests'][0]['queries'][0].update(query='sum:livekit.nope{*}.as_count()'), 'metric livekit.nope is not in metadata.csv'),
        (lambda d: first_timeseries(d)['requests'][0]['queries'][0].update(query='p95:livekit.llm.requests{*}'), 'p95:livekit.llm.requests asks a percentile of a metric that is not a distribution'),
        (lambda d: d['widgets'][1]['definition']['widgets'][0]['definition'].update(title='Tokens'), 'seed panel missing: "Total Token Usage (Input & Output)"'),
        (lambda d: d['template_variables'].pop(), 'template variables missing: host'),
        (lambda d: d.pop('title'), "'title' is a required property"),
    ],
)
def test_dashboard_checks_catch(change, expected, dashboard_schema):
    problems = dashboard_problems(broken_dashboard(change), BUNDLE, dashboard_schema)
    assert any(expected in p for p in problems), problems


def test_an_unknown_enum_is_caught_by_the_client_walk_too(dashboard_schema):
    from datadog_checks.livekit.cli.validate import deserialization_problems
    from datadog_api_client.v1.model.dashboard import Dashboard

    problems = deserialization_problems(broken_dashboard(lambda d: d.update(layout_type='grid')), Dashboard)
    assert problems == ['$.layout_type could not be parsed as any known type']
    assert deserialization_problems(DASHBOARD, Dashboard) == []


def monitor_asset(change):
    asset = copy.deepcopy(next(a for _, a in BUNDLE.monitors if a['definition']['type'] == 'query alert'))
    change(asset)
    return asset


@pytest.mark.parametrize(
    'change, expected',
    [
        (lambda a: a['definition'].update(id=12), 'a recommended monitor has no "id"'),
        (lambda a: a['definition'].update(type='metric alert'), "type 'metric alert' is not one of"),
        (lambda a: a['definition'].update(type='query alerts'), '$.type could not be parsed as any known type'),
        (lambda a: a.update(description='x' * 301), 'description is longer than 300 characters'),
        (lambda a: a['definition'].update(tags=['team:voice']), 'definition.tags must include integration:livekit'),
        (lambda a: a.update(tags=[]), 'tags must include integration:livekit'),
        (lambda a: a['definition'].update(name='Error rate is high'), 'the monitor name must mention LiveKit'),
        (lambda a: a.update(version=1), 'recommended monitors use "version": 2'),
        (lambda a: a['definition'].update(query='sum(last_5m):sum:livekit.nope{*}.as_count() > 1'), 'metric livekit.nope is not in metadata.csv'),
        (lambda a: a['definition']['options'].update(thresholds={'critical': 'high'}), "$.options.thresholds.critical: 'high' is not of type 'number'"),
        (lambda a: a['definition'].pop('query'), "'query' is a required property"),
    ],
)
def test_monitor_checks_catch(change, expected, monitor_schema):
    problems = monitor_problems(monitor_asset(change), BUNDLE, monitor_schema)
    assert any(expected in p for p in problems), problems


def test_a_service_check_monitor_must_watch_a_known_check(monitor_schema):
    asset = next(a for _, a in BUNDLE.monitors if a['definition']['type'] == 'service check')
    assert monitor_problems(asset, BUNDLE, monitor_schema) == []
    asset = copy.deepcopy(asset)
    asset['definition']['query'] = asset['definition']['query'].replace('livekit.', 'livekit.nope.', 1)
    assert any('is not in assets/service_checks.json' in p for p in monitor_problems(asset, BUNDLE, monitor_schema))


def test_openapi_nullable_is_honoured(monitor_schema):
    """`priority: null` is valid in the API (nullable: true), which draft 7 alone would reject."""
    asset = monitor_asset(lambda a: a['definition'].update(priority=None))
    assert monitor_problems(asset, BUNDLE, monitor_schema) == []
    assert to_json_schema({'type': 'integer', 'nullable': True}) == {'type': ['integer', 'null']}
    assert to_json_schema({'$ref': '#/x', 'nullable': True}) == {'anyOf': [{'$ref': '#/x'}, {'type': 'null'}]}
    assert to_json_schema({'type': 'string', 'enum': ['a'], 'nullable': True}) == {'type': ['string', 'null'], 'enum': ['a', None]}


# --- The command ------------------------------------------------------------------------------------


def test_validate_command_reports_and_fails(capsys, monkeypatch, tmp_path):
    status, out = run_validate(capsys, '--spec', SPEC)
    problems = validate_bundle(BUNDLE, SPEC)
    assert status == (1 if problems else 0)
    if not problems:
        assert out.startswith('OK: 1 dashboard(s) and {} monitor(s)'.format(len(BUNDLE.monitors)))

    # A copy of the assets with one bad monitor: the command names it and exits 1.
    root = tmp_path / 'livekit'
    (root / 'assets').mkdir(parents=True)
    for kind in ('dashboards', 'monitors'):
        (root / 'assets' / kind).mkdir()
        for name, payload in getattr(BUNDLE, kind):
            (root / name).write_text(json.dumps(payload))
    (root / 'metadata.csv').write_text((BUNDLE.root / 'metadata.csv').read_text())
    (root / 'assets' / 'service_checks.json').write_text((BUNDLE.root / 'assets' / 'service_checks.json').read_text())
    bad = json.loads((root / BUNDLE.monitors[0][0]).read_text())
    bad['definition']['name'] = 'no product name'
    (root / BUNDLE.monitors[0][0]).write_text(json.dumps(bad))
    monkeypatch.setattr(assets_api, 'INSTALLED_ROOT', root)
    status, out = run_validate(capsys, '--spec', SPEC)
    assert status == 1
    assert 'error: {}: the monitor name must mention LiveKit'.format(BUNDLE.monitors[0][0]) in out
    assert out.splitlines()[-1] == '1 problem(s) in the LiveKit assets'


def test_validate_without_the_spec_says_so(capsys, tmp_path):
    status, out = run_validate(capsys, '--spec', str(tmp_path / 'missing.yaml'))
    assert status == 2
    assert 'the Datadog API specification was not found' in out and 'missing.yaml' in out


def test_validate_uses_the_packaged_schemas_from_any_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert assets_api.find_spec() == PACKAGED_SCHEMAS
    status, out = run_validate(capsys)
    assert (status, out.split(' match ')[0]) == (0, 'OK: 1 dashboard(s) and {} monitor(s)'.format(len(BUNDLE.monitors)))
    assert str(PACKAGED_SCHEMAS) in out


def test_the_packaged_schemas_are_the_vendored_spec_s():
    """`tools/datadog_api_schemas.py` made the packaged file from the vendored spec, and nothing changed since."""
    assert PACKAGED_SCHEMAS.read_text(encoding='utf-8') == serialize(schema_subset(load_spec(SPEC)))


def test_the_packaged_schemas_judge_as_the_whole_spec():
    """The subset finds the same problems as the whole spec, on the assets and on a broken copy."""
    broken = copy.deepcopy(DASHBOARD)
    broken['layout_type'] = 'spiral'
    broken['widgets'][1]['definition']['widgets'][0]['definition']['type'] = 'no_such_widget'
    for payload in (DASHBOARD, broken):
        whole = schema_problems(payload, schema_validator(SPEC, 'Dashboard'))
        packaged = schema_problems(payload, schema_validator(str(PACKAGED_SCHEMAS), 'Dashboard'))
        assert packaged == whole
    assert len(whole) == 2


def test_installed_assets_come_first(monkeypatch, tmp_path):
    (tmp_path / 'assets' / 'dashboards').mkdir(parents=True)
    (tmp_path / 'metadata.csv').write_text('metric_name,description\n')
    monkeypatch.setattr(assets_api, 'INSTALLED_ROOT', tmp_path)
    assert assets_root() == tmp_path
    monkeypatch.setattr(assets_api, 'INSTALLED_ROOT', tmp_path / 'nowhere')
    assert assets_root() == assets_api.SOURCE_ROOT


def test_the_agent_can_import_the_cli_modules_without_the_cli_extras():
    """The Agent embeds neither datadog_api_client nor jsonschema: they are imported lazily."""
    code = (
        'import sys\n'
        'for name in ("datadog_api_client", "jsonschema"):\n'
        '    sys.modules[name] = None\n'
        'import datadog_checks.livekit.cli, datadog_checks.livekit.cli.validate, datadog_checks.livekit.cli.importer\n'
        'print("ok")\n'
    )
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == 'ok', result.stderr
