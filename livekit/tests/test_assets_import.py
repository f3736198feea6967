# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog assets import`, against Stoplight Prism serving Datadog's own v1 OpenAPI spec (real paths,
methods, auth and monitor body validation) and against a stateful fake (idempotency, error handling).
No test reaches a real Datadog site."""
import argparse
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from datadog_checks.livekit.cli.assets import AssetBundle, assets_root, register_cli
from datadog_checks.livekit.cli.importer import Importer, api_configuration, contains, normalize_site
from datadog_checks.livekit.cli.plan import build_plan

from .datadog_api_fake import API_KEY, APP_KEY, FakeDatadog

REPO = Path(__file__).resolve().parents[2]
PRISM = REPO / 'tools' / 'node' / 'node_modules' / '.bin' / 'prism'
SPEC = REPO / 'vendor' / 'datadog-api' / 'v1-openapi.yaml'

BUNDLE = AssetBundle(assets_root())
MONITOR_NAMES = sorted(asset['definition']['name'] for _, asset in BUNDLE.monitors)
DISTRIBUTIONS = sorted(m for m, d in BUNDLE.metrics.items() if d.startswith('Distribution:'))
PLAN = build_plan(BUNDLE, enable_percentiles=True)
PLANNED_TAGS = {c['metric']: c['tags'] for c in PLAN['metric_tag_configurations']}


def run_cli(argv, capsys, **env):
    """`livekit-datadog <argv>` as cli.py wires it: register_cli on the `command` sub-parsers."""
    parser = argparse.ArgumentParser(prog='livekit-datadog')
    register_cli(parser.add_subparsers(dest='command', required=True))
    saved = {k: os.environ.get(k) for k in ('DD_API_KEY', 'DD_APP_KEY', 'DD_SITE')}
    try:
        for key in saved:
            os.environ.pop(key, None)
        os.environ.update(env)
        args = parser.parse_args(argv)
        status = args.func(args)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value
    return status, capsys.readouterr().out


def import_into(fake, capsys, *extra):
    return run_cli(['assets', 'import', '--host', fake.url, *extra], capsys, DD_API_KEY=API_KEY, DD_APP_KEY=APP_KEY)


def outcome_lines(out, outcome):
    return [line for line in out.splitlines() if line.endswith(': ' + outcome) or ': {} ('.format(outcome) in line]


# --- Prism: the real API surface ------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def prism(tmp_path_factory):
    assert PRISM.exists(), 'Prism is missing: run `make pytest` (it installs tools/node)'
    assert SPEC.is_file(), 'the Datadog v1 spec is missing: {}'.format(SPEC)
    port = free_port()
    log_path = tmp_path_factory.mktemp('prism') / 'prism.log'
    log = open(log_path, 'w')
    # --errors: a request that violates the spec gets an error answer instead of an example.
    process = subprocess.Popen(
        [str(PRISM), 'mock', '-h', '127.0.0.1', '-p', str(port), '--errors', str(SPEC)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while 'Prism is listening' not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail('Prism did not start:\n' + log_path.read_text()[-2000:])
            time.sleep(0.5)
        yield PrismServer('http://127.0.0.1:{}'.format(port), log_path)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class PrismServer:
    def __init__(self, url, log_path):
        self.url = url
        self.log_path = log_path
        self.mark = 0

    def start_recording(self):
        self.mark = len(self.log_path.read_text())

    def requests(self):
        """(method, path) of each request Prism received since start_recording()."""
        text = self.log_path.read_text()[self.mark :]
        found = []
        for line in text.splitlines():
            if '[HTTP SERVER]' in line and 'Request received' in line:
                method, path = line.split('[HTTP SERVER]')[1].split()[:2]
                found.append((method.upper(), path))
        return found

    def validations(self):
        """Prism's verdicts on the requests since start_recording(): 'passed' or the violation."""
        lines = [line for line in self.log_path.read_text()[self.mark :].splitlines() if '[VALIDATOR]' in line]
        return ['passed' if 'passed the validation rules' in line else line.split('[VALIDATOR]')[1].strip() for line in lines]


def test_import_against_prism_uses_the_real_paths_and_methods(prism, capsys):
    prism.start_recording()
    status, out = run_cli(['assets', 'import', '--host', prism.url], capsys, DD_API_KEY='k1', DD_APP_KEY='k2')

    assert status == 0, out
    requests = prism.requests()
    assert requests[:2] == [('GET', '/api/v1/dashboard'), ('POST', '/api/v1/dashboard')]
    # Every monitor is validated by the API before it is created.
    monitor_calls = requests[2:]
    assert monitor_calls[0] == ('GET', '/api/v1/monitor')
    assert monitor_calls[1:] == [('POST', '/api/v1/monitor/validate'), ('POST', '/api/v1/monitor')] * len(MONITOR_NAMES)
    # Prism checked every request (auth, parameters, monitor bodies) against the spec: all passed.
    assert prism.validations() == ['passed'] * len(requests)
    assert len(outcome_lines(out, 'created')) == 1 + len(MONITOR_NAMES)
    # What was created is what `assets plan` names: one POST per planned dashboard and monitor.
    assert requests.count(('POST', '/api/v1/dashboard')) == len(PLAN['dashboards'])
    assert requests.count(('POST', '/api/v1/monitor')) == len(PLAN['monitors'])
    created = {line.split('"')[1] for line in outcome_lines(out, 'created')}
    assert created == set(PLAN['dashboards']) | set(PLAN['monitors'])


def test_prism_answers_401_without_keys_and_every_asset_reports_it(prism):
    prism.start_recording()
    lines = []
    importer = Importer('unused', 'unused', host=prism.url, out=lines.append)
    importer.configuration.api_key.clear()  # the requests go out with no DD-API-KEY / DD-APPLICATION-KEY
    with importer:
        importer.import_dashboards(BUNDLE.dashboards)
        importer.import_monitors(BUNDLE.monitors)
    status = importer.report()

    assert status == 1
    failed = [line for line in lines if ': failed (401' in line]
    assert len(failed) == len(BUNDLE.dashboards) + len(MONITOR_NAMES)
    assert lines[-1].endswith('0 created, 0 updated, 0 unchanged, {} failed'.format(len(failed)))
    assert prism.requests() == [('GET', '/api/v1/dashboard'), ('GET', '/api/v1/monitor')]


def test_prism_rejects_a_monitor_body_that_breaks_the_spec_and_the_others_proceed(prism):
    good = BUNDLE.monitors[0]
    # The client accepts an unknown monitor type silently (forward compatibility); the spec does not.
    typo = ('typo.json', {'definition': dict(good[1]['definition'], name='[LiveKit] typo', type='query alerts')})
    prism.start_recording()
    lines = []
    with Importer('k1', 'k2', host=prism.url, out=lines.append) as importer:
        importer.import_monitors([typo, good])

    assert importer.report() == 1
    # Prism answers with the spec's own 400 example; its log says why the body was refused.
    assert lines[0] == 'monitor "[LiveKit] typo": failed (400 Bad Request: Bad Request)'
    assert lines[1] == 'monitor "{}": created (id 123)'.format(good[1]['definition']['name'])
    verdicts = prism.validations()
    assert verdicts.count('passed') == 3  # the listing, the good monitor's validation and creation
    assert any('Request body property type must be equal to one of the allowed values' in v for v in verdicts)


def test_a_monitor_the_client_cannot_build_fails_alone(fake):
    good = BUNDLE.monitors[0]
    broken = ('broken.json', {'definition': {'name': '[LiveKit] broken', 'type': 'query alert', 'tags': []}})
    lines = []
    with Importer(API_KEY, APP_KEY, host=fake.url, out=lines.append) as importer:
        importer.import_monitors([broken, good])

    assert importer.report() == 1
    assert lines[0].startswith('monitor "[LiveKit] broken": failed (TypeError:') and "'query'" in lines[0]
    assert lines[1].startswith('monitor "{}": created'.format(good[1]['definition']['name']))


def test_cli_refuses_to_import_without_keys(capsys):
    status, out = run_cli(['assets', 'import', '--host', 'http://127.0.0.1:9'], capsys, DD_API_KEY='only-one')
    assert status == 2
    assert 'DD_APP_KEY' in out and 'only-one' not in out


# --- The stateful fake: idempotency and failures -------------------------------------------------


@pytest.fixture
def fake():
    with FakeDatadog() as server:
        yield server


def test_second_import_creates_and_updates_nothing(fake, capsys):
    status, first = import_into(fake, capsys)
    assert status == 0, first
    assert len(fake.dashboards) == 1 and sorted(m['name'] for m in fake.monitors.values()) == MONITOR_NAMES
    writes_after_first = len(fake.writes())

    status, second = import_into(fake, capsys)

    assert status == 0, second
    assert len(fake.writes()) == writes_after_first
    assert len(outcome_lines(second, 'unchanged')) == 1 + len(MONITOR_NAMES)
    assert second.splitlines()[-1] == '0 created, 0 updated, {} unchanged, 0 failed'.format(1 + len(MONITOR_NAMES))
    assert len(fake.dashboards) == 1 and len(fake.monitors) == len(MONITOR_NAMES)


def test_an_edited_monitor_is_updated_in_place_and_the_others_left_alone(fake, capsys):
    import_into(fake, capsys)
    edited = next(m for m in fake.monitors.values() if m['name'] == MONITOR_NAMES[0])
    edited['options']['thresholds'] = {'critical': 99}
    ids_before = set(fake.monitors)

    status, out = import_into(fake, capsys)

    assert status == 0
    assert set(fake.monitors) == ids_before
    assert outcome_lines(out, 'updated') == ['monitor "{}": updated (id {})'.format(MONITOR_NAMES[0], edited['id'])]
    original = next(a for _, a in BUNDLE.monitors if a['definition']['name'] == MONITOR_NAMES[0])
    assert fake.monitors[edited['id']]['options']['thresholds'] == original['definition']['options']['thresholds']


def test_assets_of_the_same_name_without_the_integration_tag_are_not_ours(fake, capsys):
    user_dashboard = fake.create_dashboard({}, {'title': 'LiveKit Overview', 'layout_type': 'ordered', 'widgets': []})[1]
    user_monitor = fake.create_monitor({}, {'name': MONITOR_NAMES[0], 'type': 'query alert', 'query': 'x', 'tags': []})[1]

    status, out = import_into(fake, capsys)

    assert status == 0
    assert fake.dashboards[user_dashboard['id']]['widgets'] == []
    assert fake.monitors[user_monitor['id']]['query'] == 'x'
    assert len(outcome_lines(out, 'created')) == 1 + len(MONITOR_NAMES)


def test_a_failing_asset_does_not_hide_the_others(fake, capsys):
    fake.fail('POST', r'^/api/v1/monitor$', 500, ['Internal Server Error: boom'], name=MONITOR_NAMES[1])
    fake.fail('POST', r'^/api/v1/dashboard$', 403, ['Forbidden: this application key cannot write dashboards'])

    status, out = import_into(fake, capsys)

    assert status == 1
    assert 'dashboard "LiveKit Overview": failed (403 Forbidden: Forbidden: this application key cannot write dashboards)' in out
    assert 'monitor "{}": failed (500 Internal Server Error: Internal Server Error: boom)'.format(MONITOR_NAMES[1]) in out
    assert sorted(m['name'] for m in fake.monitors.values()) == [n for n in MONITOR_NAMES if n != MONITOR_NAMES[1]]
    assert out.splitlines()[-1] == '{} created, 0 updated, 0 unchanged, 2 failed'.format(len(MONITOR_NAMES) - 1)


def test_wrong_keys_end_with_the_api_message_and_no_secret_is_printed(fake, capsys):
    status, out = run_cli(
        ['assets', 'import', '--host', fake.url], capsys, DD_API_KEY='wrong-api-key-value', DD_APP_KEY=APP_KEY
    )
    assert status == 1
    assert len([line for line in out.splitlines() if line.endswith('failed (403 Forbidden: Forbidden)')]) == 1 + len(
        MONITOR_NAMES
    )
    assert 'wrong-api-key-value' not in out and APP_KEY not in out
    assert fake.writes() == []


def test_the_keys_travel_in_datadog_auth_headers(fake, capsys):
    import_into(fake, capsys, '--dashboards')
    for _, _, _, headers in fake.requests:
        assert headers['dd-api-key'] == API_KEY and headers['dd-application-key'] == APP_KEY


def test_dry_run_writes_nothing_but_still_validates_monitors(fake, capsys):
    status, out = import_into(fake, capsys, '--dry-run')

    assert status == 0
    assert fake.writes() == [] and fake.dashboards == {} and fake.monitors == {}
    validations = [r for r in fake.requests if r[1] == '/api/v1/monitor/validate']
    assert len(validations) == len(MONITOR_NAMES)
    assert len([line for line in out.splitlines() if line.endswith('would be created')]) == 1 + len(MONITOR_NAMES)
    assert out.splitlines()[-1].startswith('dry run, nothing changed: ')


def test_dashboards_and_monitors_flags_select_what_is_imported(fake, capsys):
    import_into(fake, capsys, '--monitors')
    assert fake.dashboards == {} and len(fake.monitors) == len(MONITOR_NAMES)
    import_into(fake, capsys, '--dashboards')
    assert len(fake.dashboards) == 1


def test_monitor_listing_asks_for_our_tag(fake, capsys):
    import_into(fake, capsys, '--monitors')
    listing = [q for m, p, q, _ in fake.requests if (m, p) == ('GET', '/api/v1/monitor')]
    assert listing and listing[0]['monitor_tags'] == ['integration:livekit']


def test_enable_percentiles_applies_exactly_the_plan_once(fake, capsys):
    # An older configuration of a planned metric (other tags, no percentiles) and one left by the old
    # `--enable-percentiles` on a metric that no asset reads at a percentile (every tag queryable).
    fake.tag_configurations['livekit.llm.ttft'] = {'metric_type': 'distribution', 'tags': ['model'], 'include_percentiles': False}
    stray = next(m for m in DISTRIBUTIONS if m not in PLANNED_TAGS)
    fake.tag_configurations[stray] = {
        'metric_type': 'distribution',
        'tags': [],
        'exclude_tags_mode': True,
        'include_percentiles': True,
    }

    status, out = import_into(fake, capsys, '--monitors', '--enable-percentiles')

    assert status == 0, out
    # The requests: one POST or PATCH per planned metric, with the plan's tags and nothing else.
    writes = fake.tag_configuration_writes()
    assert sorted(writes) == sorted(PLANNED_TAGS)
    for metric, (method, attributes) in writes.items():
        assert method == ('PATCH' if metric == 'livekit.llm.ttft' else 'POST'), metric
        assert attributes['tags'] == PLANNED_TAGS[metric], metric
        assert attributes['include_percentiles'] is True and attributes['exclude_tags_mode'] is False, metric
        if method == 'POST':
            assert attributes['metric_type'] == 'distribution', metric
    # What Datadog then holds: the plan, and the stray configuration untouched but reported.
    for metric, tags in PLANNED_TAGS.items():
        configuration = fake.tag_configurations[metric]
        assert sorted(configuration['tags']) == tags and configuration['include_percentiles'] is True, metric
        assert configuration['metric_type'] == 'distribution' and not configuration.get('exclude_tags_mode'), metric
    assert sorted(fake.tag_configurations) == sorted([*PLANNED_TAGS, stray])
    assert fake.tag_configurations[stray]['include_percentiles'] is True
    assert 'percentiles "{}": still on, but no widget or monitor reads it at a percentile'.format(stray) in out
    assert 'percentiles "livekit.llm.ttft": updated (queryable tags: {})'.format(
        ', '.join(PLANNED_TAGS['livekit.llm.ttft'])
    ) in out

    writes_before = len(fake.writes())
    status, again = import_into(fake, capsys, '--monitors', '--enable-percentiles')
    assert status == 0
    assert len(fake.writes()) == writes_before
    unchanged = [line for line in again.splitlines() if line.startswith('percentiles') and line.endswith('unchanged')]
    assert len(unchanged) == len(PLANNED_TAGS)


def test_enable_percentiles_dry_run_names_the_plan_and_writes_nothing(fake, capsys):
    status, out = import_into(fake, capsys, '--monitors', '--enable-percentiles', '--dry-run')

    assert status == 0, out
    assert fake.writes() == [] and fake.tag_configurations == {}
    lines = [line for line in out.splitlines() if line.startswith('percentiles')]
    assert lines == [
        'percentiles "{}": would be created (queryable tags: {})'.format(metric, ', '.join(tags) or 'none')
        for metric, tags in PLANNED_TAGS.items()
    ]


def test_import_creates_what_the_plan_names(fake, capsys):
    status, out = import_into(fake, capsys)

    assert status == 0, out
    assert [d['title'] for d in fake.dashboards.values()] == PLAN['dashboards']
    assert sorted(m['name'] for m in fake.monitors.values()) == sorted(PLAN['monitors'])
    assert fake.tag_configurations == {}  # no percentiles without --enable-percentiles


# --- Site and comparison helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    'site, host',
    [
        (None, 'https://api.datadoghq.com'),
        ('datadoghq.eu', 'https://api.datadoghq.eu'),
        ('https://app.us3.datadoghq.com/', 'https://api.us3.datadoghq.com'),
        ('ddog-gov.com', 'https://api.ddog-gov.com'),
        # A site newer than the client's list of known sites still works.
        ('ap9.datadoghq.com', 'https://api.ap9.datadoghq.com'),
    ],
)
def test_any_datadog_site(site, host):
    assert api_configuration('a', 'b', site=site).host == host


def test_normalize_site_keeps_plain_sites():
    assert normalize_site('us5.datadoghq.com') == 'us5.datadoghq.com'


def test_contains_tolerates_what_the_api_adds_but_not_changes():
    desired = {'options': {'thresholds': {'critical': 10}}, 'tags': ['a', 'b'], 'priority': None}
    assert contains({'options': {'thresholds': {'critical': 10.0}, 'locked': False}, 'tags': ['b', 'a']}, desired)
    assert not contains({'options': {'thresholds': {'critical': 11}}, 'tags': ['a', 'b']}, desired)
    assert not contains({'options': {'thresholds': {'critical': 10}}, 'tags': ['a']}, desired)
    assert not contains({'enabled': 1}, {'enabled': True})


def test_the_bundle_holds_the_packaged_assets():
    assert [name for name, _ in BUNDLE.dashboards] == ['assets/dashboards/livekit_overview.json']
    assert len(BUNDLE.monitors) >= 9
    assert json.dumps(BUNDLE.dashboards[0][1]).count('"type": "group"') >= 8
