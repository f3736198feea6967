# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog check`: run the check as the Agent would and show what Datadog would receive.

`livekit-datadog check --json` prints one JSON object whose shape is a stable contract (other tools read
it): metrics, histogram_buckets, service_checks, logs, metadata, errors; every submission of every run
is its own entry.
"""
import argparse
import logging
import os
import sys
import time

from datadog_checks.base.stubs import aggregator, datadog_agent
from datadog_checks.base.utils.containers import hash_mutable_stable
from datadog_checks.base.utils.serialization import from_json, to_json

from ..check import LiveKitCheck
from ..distributions import quantile_from_buckets

METRIC_TYPES = {number: name for name, number in aggregator.METRIC_ENUM_MAP.items()}
STATUS_NAMES = {0: 'OK', 1: 'WARNING', 2: 'CRITICAL', 3: 'UNKNOWN'}
# Scraped Prometheus buckets carry their bounds as tags too.
BOUND_TAGS = ('lower_bound:', 'upper_bound:')
STATE_FILE = 'persistent_cache.json'


def register_check_command(subparsers):
    command = subparsers.add_parser('check', help='run the check and print what Datadog would receive')
    command.add_argument('--config', required=True, help='the check configuration (conf.yaml format)')
    command.add_argument('--instance', type=int, help='run only this instance (0-based); default: all')
    command.add_argument('--runs', type=int, default=1, help='check runs per instance (default 1)')
    command.add_argument('--interval', type=float, default=15.0, help='seconds between runs (default 15)')
    command.add_argument(
        '--state-dir',
        default='.livekit-datadog-state',
        help='where the persistent cache (log offsets, open conversations) is kept between invocations',
    )
    command.add_argument('--json', action='store_true', help='print one JSON object instead of tables')
    command.set_defaults(func=run_check_command)


def run_check_command(args):
    result = {'metrics': [], 'histogram_buckets': [], 'service_checks': [], 'logs': [], 'metadata': {}, 'errors': []}
    try:
        init_config, instances = load_config(args.config, args.instance)
    except ValueError as e:
        result['errors'].append(str(e))
        return report(result, args)

    state_path = os.path.join(args.state_dir, STATE_FILE)
    load_persistent_cache(state_path)
    for index, instance in instances:
        check = LiveKitCheck('livekit', init_config, [instance])
        check.check_id = 'livekit:{}'.format(instance_digest(index, instance))
        for run in range(args.runs):
            if run:
                time.sleep(args.interval)
            error = check.run()
            save_persistent_cache(state_path)
            collect_run(check, result)
            for message in error_messages(error):
                result['errors'].append('instance {}: {}'.format(index, message))
        check.cancel()
    return report(result, args)


def load_config(path, only):
    import yaml

    try:
        with open(path, encoding='utf-8') as f:
            config = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ValueError('cannot read the configuration {}: {}'.format(path, e))
    instances = config.get('instances') if isinstance(config, dict) else None
    if not isinstance(instances, list) or not instances:
        raise ValueError('the configuration {} has no `instances` list'.format(path))
    indexed = list(enumerate(instances))
    if only is not None:
        if not 0 <= only < len(instances):
            raise ValueError('--instance {} is out of range: the configuration has {}'.format(only, len(instances)))
        indexed = [indexed[only]]
    return config.get('init_config') or {}, indexed


def instance_digest(index, instance):
    # Stable across invocations, so that the persistent cache behaves like the Agent's across restarts.
    return '{}-{}'.format(index, hash_mutable_stable(instance)[:12])


def load_persistent_cache(path):
    datadog_agent._cache.clear()
    try:
        with open(path, 'rb') as f:
            datadog_agent._cache.update(from_json(f.read()))
    except FileNotFoundError:
        pass
    except ValueError:
        logging.getLogger(__name__).warning('ignoring the unreadable state file %s', path)


def save_persistent_cache(path):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    temporary = path + '.tmp'
    with open(temporary, 'w', encoding='utf-8') as f:
        f.write(to_json(datadog_agent._cache))
    os.replace(temporary, path)


def collect_run(check, result):
    """Move this run's submissions from the stubs into the result, then reset the stubs."""
    for stubs in aggregator._metrics.values():
        for m in stubs:
            result['metrics'].append(
                {'name': m.name, 'type': METRIC_TYPES.get(m.type, m.type), 'value': m.value, 'tags': list(m.tags)}
            )
    for stubs in aggregator._histogram_buckets.values():
        for b in stubs:
            result['histogram_buckets'].append(
                {
                    'name': b.name,
                    'value': b.value,
                    'lower_bound': b.lower_bound,
                    'upper_bound': b.upper_bound,
                    'monotonic': b.monotonic,
                    'tags': list(b.tags),
                }
            )
    for stubs in aggregator._service_checks.values():
        for s in stubs:
            result['service_checks'].append(
                {'name': s.name, 'status': s.status, 'tags': list(s.tags), 'message': s.message}
            )
    result['logs'].extend(datadog_agent._sent_logs.pop(check.check_id, []))
    for (check_id, name), value in list(datadog_agent._metadata.items()):
        if check_id == check.check_id:
            result['metadata'][name] = value
    aggregator.reset()
    datadog_agent._sent_logs.clear()
    datadog_agent._metadata.clear()


def error_messages(error):
    if not error:
        return []
    try:
        return [entry.get('message', str(entry)) for entry in from_json(error)]
    except (ValueError, AttributeError):
        return [str(error)]


def report(result, args):
    for error in result['errors']:
        print('error: {}'.format(error), file=sys.stderr)
    if args.json:
        sys.stdout.write(to_json(result) + '\n')
    else:
        print_tables(result)
    return 1 if result['errors'] else 0


def print_tables(result):
    totals = {}
    for m in result['metrics']:
        key = (m['name'], m['type'], tuple(sorted(m['tags'])))
        totals[key] = totals.get(key, 0) + m['value'] if m['type'] in ('count', 'monotonic_count') else m['value']
    print_table(
        'Metrics',
        ('metric', 'type', 'value', 'tags'),
        [(n, t, fmt(v), ' '.join(g)) for (n, t, g), v in sorted(totals.items())],
    )

    distributions = {}
    for b in result['histogram_buckets']:
        # Scraped Prometheus buckets carry their bounds as tags too; one row per distribution.
        tags = tuple(sorted(t for t in b['tags'] if not t.startswith(BOUND_TAGS)))
        distributions.setdefault((b['name'], tags), []).append(b)
    rows = []
    for (name, tags), buckets in sorted(distributions.items()):
        pairs = [(b['lower_bound'], b['upper_bound'], b['value']) for b in buckets]
        count = sum(v for _, _, v in pairs)
        p50, p95 = quantile_from_buckets(pairs, 0.5), quantile_from_buckets(pairs, 0.95)
        rows.append((name, fmt(count), fmt(p50), fmt(p95), ' '.join(tags)))
    print_table('Distributions', ('metric', 'count', 'p50', 'p95', 'tags'), rows)

    print_table(
        'Service checks',
        ('check', 'status', 'tags', 'message'),
        [
            (s['name'], STATUS_NAMES.get(s['status'], s['status']), ' '.join(s['tags']), s['message'] or '')
            for s in result['service_checks']
        ],
    )
    print_table('Logs sent', ('record',), [(to_json(record),) for record in result['logs']])
    if result['metadata']:
        print_table('Metadata', ('name', 'value'), sorted(result['metadata'].items()))


def print_table(title, header, rows):
    print('\n{} ({})'.format(title, len(rows)))
    if not rows:
        return
    rows = [tuple(str(cell) for cell in row) for row in rows]
    widths = [min(max(len(h), *(len(r[i]) for r in rows)), 60) for i, h in enumerate(header)]
    print('  '.join(h.upper().ljust(w) for h, w in zip(header, widths)).rstrip())
    for row in rows:
        print('  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def fmt(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else '{:.4g}'.format(value)
    return str(value)

