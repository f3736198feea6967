# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog assets plan|validate|import`: the packaged dashboard and recommended monitors.

CLI only. The Agent imports this package and embeds neither `datadog_api_client`, `jsonschema` nor `yaml`:
they are imported inside the functions that need them (install them with `pip install 'datadog-livekit[cli]'`).
"""
import argparse
import csv
import json
import os
from pathlib import Path

from .api_schemas import PACKAGED_SCHEMAS

PACKAGE = Path(__file__).resolve().parents[1]
# The wheel force-includes assets/ and metadata.csv in the package; a checkout has them two levels up.
INSTALLED_ROOT = PACKAGE
SOURCE_ROOT = PACKAGE.parents[1]


class AssetBundle:
    """The asset files of the integration, read once."""

    def __init__(self, root):
        self.root = Path(root)
        self.dashboards = self._load_json_dir('dashboards')
        self.monitors = self._load_json_dir('monitors')
        self.saved_views = self._load_json_dir('saved_views')
        self.metrics = read_metadata(self.root / 'metadata.csv')
        service_checks = self.root / 'assets' / 'service_checks.json'
        self.service_checks = (
            {entry['check'] for entry in json.loads(service_checks.read_text(encoding='utf-8'))}
            if service_checks.is_file()
            else None
        )
        manifest = self.root / 'manifest.json'
        self.manifest = json.loads(manifest.read_text(encoding='utf-8')) if manifest.is_file() else None

    def _load_json_dir(self, kind):
        folder = self.root / 'assets' / kind
        loaded = []
        for path in sorted(folder.glob('*.json')) if folder.is_dir() else []:
            try:
                loaded.append(('assets/{}/{}'.format(kind, path.name), json.loads(path.read_text(encoding='utf-8'))))
            except ValueError as e:
                raise ValueError('{} is not valid JSON: {}'.format(path, e))
        return loaded

    def asset_paths(self):
        return [name for name, _ in self.dashboards + self.monitors + self.saved_views]


def read_metadata(path):
    """metric name -> description, from metadata.csv."""
    with open(path, newline='', encoding='utf-8') as f:
        return {row['metric_name']: row.get('description') or '' for row in csv.DictReader(f)}


def assets_root():
    """The installed package first (the wheel ships assets/ there), then the source tree."""
    for root in (INSTALLED_ROOT, SOURCE_ROOT):
        if (root / 'assets' / 'dashboards').is_dir() and (root / 'metadata.csv').is_file():
            return root
    raise FileNotFoundError(
        'cannot find the LiveKit assets: neither {} nor {} has assets/dashboards and metadata.csv'.format(
            INSTALLED_ROOT, SOURCE_ROOT
        )
    )


def find_spec(explicit=None):
    """The Datadog API v1 schemas to validate against: --spec, else the subset shipped in the package."""
    return Path(explicit) if explicit else PACKAGED_SCHEMAS


BILLING = (
    'Billed as custom metrics: a distribution is 5 series per value combination of its queryable tags; '
    'percentiles add 5 per value combination of every subset of them, so each queryable tag multiplies them.'
)


def register_cli(subparsers):
    """Add `assets plan`, `assets validate` and `assets import` to the `livekit-datadog` command."""
    assets = subparsers.add_parser('assets', help='plan, validate or import the LiveKit dashboard and monitors')
    commands = assets.add_subparsers(dest='assets_command', required=True)

    plan = commands.add_parser(
        'plan',
        help='show offline what `assets import` would create or update',
        description='Offline, no keys: the dashboards (by title) and monitors (by name) that `assets import` '
        'creates or updates and, with --enable-percentiles, the metric tag configurations it applies. '
        + BILLING,
    )
    plan.add_argument(
        '--enable-percentiles',
        action='store_true',
        help='include the metric tag configurations that `assets import --enable-percentiles` applies',
    )
    plan.add_argument(
        '--json',
        action='store_true',
        help='print one JSON object: {"dashboards": [title], "monitors": [name], "metric_tag_configurations": '
        '[{"metric", "metric_type", "include_percentiles", "tags"}]}',
    )
    plan.set_defaults(func=run_plan)

    validate = commands.add_parser('validate', help='check the dashboard and monitors offline')
    validate.add_argument(
        '--spec',
        help='a Datadog API v1 OpenAPI file (YAML or JSON); default: the Dashboard and Monitor schemas '
        'shipped with the package',
    )
    validate.set_defaults(func=run_validate)

    importer = commands.add_parser(
        'import',
        help='create or update the dashboard and monitors in Datadog',
        description='Keys come from DD_API_KEY and DD_APP_KEY, the site from DD_SITE (default datadoghq.com). '
        'An asset that exists (same title or name, tagged integration:livekit) is updated, never duplicated.',
    )
    importer.add_argument('--dry-run', action='store_true', help='show what would change, change nothing')
    importer.add_argument('--dashboards', action='store_true', help='import only the dashboards')
    importer.add_argument('--monitors', action='store_true', help='import only the monitors')
    importer.add_argument(
        '--enable-percentiles',
        action='store_true',
        help='also create or update a metric tag configuration for each distribution that a widget or '
        'monitor reads at a percentile: percentiles on, only the tags the assets read queryable (`assets plan '
        '--enable-percentiles` lists them). ' + BILLING,
    )
    importer.add_argument('--host', help=argparse.SUPPRESS)  # a mock API server, for tests
    importer.set_defaults(func=run_import)


def run_plan(args):
    from .plan import build_plan, format_plan

    try:
        plan = build_plan(AssetBundle(assets_root()), enable_percentiles=args.enable_percentiles)
    except (OSError, ValueError) as e:
        print('error: {}'.format(e))
        return 2
    print(json.dumps(plan, indent=2) if args.json else format_plan(plan, args.enable_percentiles))
    return 0


def run_validate(args):
    from .validate import validate_bundle

    spec = find_spec(args.spec)
    if not spec.is_file():
        print('error: the Datadog API specification was not found ({}); pass --spec PATH'.format(spec))
        return 2
    try:
        bundle = AssetBundle(assets_root())
        problems = validate_bundle(bundle, str(spec))
    except (OSError, ValueError) as e:
        print('error: {}'.format(e))
        return 2
    for problem in problems:
        print('error: {}'.format(problem))
    if problems:
        print('{} problem(s) in the LiveKit assets'.format(len(problems)))
        return 1
    print(
        'OK: {} dashboard(s) and {} monitor(s) match the Datadog API ({}) and metadata.csv'.format(
            len(bundle.dashboards), len(bundle.monitors), spec
        )
    )
    return 0


def run_import(args):
    from .importer import Importer

    api_key, app_key = os.environ.get('DD_API_KEY'), os.environ.get('DD_APP_KEY')
    missing = [name for name, value in (('DD_API_KEY', api_key), ('DD_APP_KEY', app_key)) if not value]
    if missing:
        print(
            'error: set {} (an API key and an application key of your Datadog organization)'.format(
                ' and '.join(missing)
            )
        )
        return 2
    both = not (args.dashboards or args.monitors)
    bundle = AssetBundle(assets_root())
    importer = Importer(api_key, app_key, site=os.environ.get('DD_SITE'), host=args.host, dry_run=args.dry_run)
    with importer:
        if both or args.dashboards:
            importer.import_dashboards(bundle.dashboards)
        if both or args.monitors:
            importer.import_monitors(bundle.monitors)
        if args.enable_percentiles:
            from .plan import metric_tag_configurations

            configurations = metric_tag_configurations(bundle)
            importer.enable_percentiles(configurations)
            planned = {c['metric'] for c in configurations}
            importer.warn_unplanned_percentiles(
                sorted(m for m, d in bundle.metrics.items() if d.startswith('Distribution:') and m not in planned)
            )
    return importer.report()
