# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Offline checks of the dashboard and recommended monitors (`livekit-datadog assets validate`).

CLI only: `datadog_api_client`, `jsonschema` and `yaml` are imported inside functions, because the Agent
imports this package and embeds none of them.
"""
import functools
import json
import re

# The panels the user asked for (seed/livekit-dashboard.md), titled exactly so.
SEED_PANEL_TITLES = (
    'Total Token Usage (Input & Output)',
    'Total Error Rate',
    'Model Distribution',
    'Requests Over Time',
    'Latency (P95 Over Time)',
    'HTTP Request Duration (Over Time)',
    'Services and Languages Using LiveKit',
    'Error Records',
    'Logs',
    'Number of Conversations Below Set Threshold Turns',
    'Average Number of Turns Per Conversation',
    'List of Conversations Below Set Threshold Turns (Trace ID)',
    'Average Latency of the TTS Over Time for the Voice Agent',
)

INTEGRATION_TAG = 'integration:livekit'
# The rules of the (since removed) `ddev validate recommended-monitors`.
MONITOR_TYPES = {'query alert', 'event alert', 'service check'}
MAX_MONITOR_DESCRIPTION = 300

# `sum:livekit.llm.requests{`, `p95:livekit.turn.e2e_latency{`: the space aggregator names the metric.
METRIC_IN_QUERY = re.compile(r'\b(avg|sum|min|max|count|p\d{1,2}(?:\.\d+)?):([A-Za-z][A-Za-z0-9_.]*)\s*\{')
PERCENTILE = re.compile(r'p\d')
# `percentile(last_15m):p95:livekit.llm.ttft{*} by {model} > 2`: a percentile monitor.
PERCENTILE_MONITOR = re.compile(r'^\s*percentile\(')
GROUP_BY = re.compile(r'\s*by\s*\{([^}]*)\}')
# `$agent_name`, `$agent_name.value`: a template variable in a scope.
TEMPLATE_VARIABLE = re.compile(r'\$([A-Za-z0-9_-]+)')
SCOPE_SEPARATOR = re.compile(r',|\s+(?:AND|OR)\s+')
# `"livekit.agent.health".over(...)`: the check a service-check monitor watches.
SERVICE_CHECK_IN_QUERY = re.compile(r'^\s*"([^"]+)"\.over\(')


def validate_bundle(bundle, spec_path):
    """All problems found in the dashboards and monitors of `bundle`, as readable lines (none: valid)."""
    problems = []
    dashboard_schema = schema_validator(spec_path, 'Dashboard')
    monitor_schema = schema_validator(spec_path, 'Monitor')
    for name, dashboard in bundle.dashboards:
        problems += ['{}: {}'.format(name, p) for p in unique(dashboard_problems(dashboard, bundle, dashboard_schema))]
    for name, monitor in bundle.monitors:
        problems += ['{}: {}'.format(name, p) for p in unique(monitor_problems(monitor, bundle, monitor_schema))]
    if not bundle.dashboards:
        problems.append('no dashboard found in {}'.format(bundle.root))
    if not bundle.monitors:
        problems.append('no monitor found in {}'.format(bundle.root))
    problems += manifest_problems(bundle)
    return problems


def unique(items):
    return list(dict.fromkeys(items))


def dashboard_problems(dashboard, bundle, schema):
    from datadog_api_client.v1.model.dashboard import Dashboard

    problems = deserialization_problems(dashboard, Dashboard)
    problems += schema_problems(dashboard, schema)
    titles = {d['title'] for _, d in iter_widgets(dashboard.get('widgets', [])) if d.get('title')}
    problems += ['seed panel missing: "{}"'.format(t) for t in SEED_PANEL_TITLES if t not in titles]
    for where, query in dashboard_metric_queries(dashboard):
        problems += ['{}: {}'.format(where, p) for p in query_problems(query, bundle.metrics)]
    for where, check in dashboard_service_checks(dashboard):
        if bundle.service_checks is not None and check not in bundle.service_checks:
            problems.append('{}: service check {} is not in assets/service_checks.json'.format(where, check))
    variables = {v.get('name') for v in dashboard.get('template_variables', [])}
    missing = [v for v in ('service', 'agent_name', 'model', 'language', 'host') if v not in variables]
    if missing:
        problems.append('template variables missing: {}'.format(', '.join(missing)))
    return problems


def monitor_problems(asset, bundle, schema):
    from datadog_api_client.v1.model.monitor import Monitor

    problems = []
    if asset.get('version') != 2:
        problems.append('recommended monitors use "version": 2')
    for key in ('title', 'description', 'definition', 'tags'):
        if key not in asset:
            problems.append('missing "{}"'.format(key))
    definition = asset.get('definition')
    if not isinstance(definition, dict):
        return problems + ['"definition" must be a monitor object']
    if 'id' in asset or 'id' in definition:
        problems.append('a recommended monitor has no "id"')
    if definition.get('type') not in MONITOR_TYPES:
        problems.append('type {!r} is not one of {}'.format(definition.get('type'), ', '.join(sorted(MONITOR_TYPES))))
    if len(asset.get('description', '')) > MAX_MONITOR_DESCRIPTION:
        problems.append('description is longer than {} characters'.format(MAX_MONITOR_DESCRIPTION))
    for where, tags in (('tags', asset.get('tags', [])), ('definition.tags', definition.get('tags', []))):
        if INTEGRATION_TAG not in tags:
            problems.append('{} must include {}'.format(where, INTEGRATION_TAG))
    if 'livekit' not in definition.get('name', '').lower():
        problems.append('the monitor name must mention LiveKit')
    if not definition.get('message', '').strip():
        problems.append('the monitor has no message')
    problems += deserialization_problems(definition, Monitor)
    problems += schema_problems(definition, schema)
    query = definition.get('query', '')
    if definition.get('type') == 'service check':
        match = SERVICE_CHECK_IN_QUERY.match(query)
        if not match:
            problems.append('cannot read the service check of the query: {}'.format(query))
        elif bundle.service_checks is not None and match.group(1) not in bundle.service_checks:
            problems.append('service check {} is not in assets/service_checks.json'.format(match.group(1)))
    else:
        problems += query_problems(query, bundle.metrics)
    return problems


def manifest_problems(bundle):
    """Every asset file is declared in manifest.json (only where the manifest ships: the source tree)."""
    if bundle.manifest is None:
        return []
    declared = set()
    assets = bundle.manifest.get('assets', {})
    for kind in ('dashboards', 'monitors', 'saved_views'):
        declared.update(assets.get(kind, {}).values())
    return [
        'manifest.json does not declare {}'.format(path) for path in bundle.asset_paths() if path not in declared
    ]


def query_problems(query, metrics):
    problems = []
    reads = list(metric_reads(query))
    if not reads:
        problems.append('no metric found in query: {}'.format(query))
    for read in reads:
        description = metrics.get(read.metric)
        if description is None:
            problems.append('metric {} is not in metadata.csv'.format(read.metric))
        elif read.percentile and not description.startswith('Distribution:'):
            problems.append(
                '{}:{} asks a percentile of a metric that is not a distribution'.format(read.aggregator, read.metric)
            )
    return problems


class MetricRead:
    """One metric of a query: `p95:livekit.llm.ttft{$agent_name,$model} by {model}`.

    `filters`: the scope's terms (`$agent_name`, `model:gpt-4o`, `reason IN (a,b)`, `*`) as written;
    `group_by`: the tag keys of its `by {...}`; `percentile`: read at a percentile (a `pXX:` space
    aggregator, or any metric of a `percentile(...)` monitor query)."""

    __slots__ = ('aggregator', 'metric', 'filters', 'group_by', 'percentile')

    def __init__(self, aggregator, metric, filters, group_by, percentile):
        self.aggregator, self.metric, self.filters, self.group_by = aggregator, metric, filters, group_by
        self.percentile = percentile

    def tag_keys(self, variables):
        """The tag keys this read filters or groups by; `variables`: template variable name -> its tag
        (the dashboard's `prefix`). A variable without a tag and `*` filter by no key."""
        keys = set(self.group_by)
        for term in self.filters:
            key = scope_term_key(term, variables)
            if key:
                keys.add(key)
        return keys

    def variables(self):
        """The template variables (names without `$`) its scope uses."""
        return {m.group(1) for term in self.filters for m in TEMPLATE_VARIABLE.finditer(term)}


def metric_reads(query):
    """Every metric a dashboard or monitor query reads, in order, as `MetricRead`s. The one query
    parser of the CLI: `query_problems` checks the metrics, `plan` derives the queryable tags."""
    whole_percentile = bool(PERCENTILE_MONITOR.match(query))
    for match in METRIC_IN_QUERY.finditer(query):
        aggregator, metric = match.groups()
        end = query.find('}', match.end())
        end = len(query) if end < 0 else end
        scope = query[match.end() : end].strip()
        filters = [term.strip() for term in SCOPE_SEPARATOR.split(scope) if term.strip()]
        group = GROUP_BY.match(query, end + 1)
        group_by = [key.strip() for key in group.group(1).split(',') if key.strip()] if group else []
        yield MetricRead(
            aggregator, metric, filters, group_by, whole_percentile or bool(PERCENTILE.match(aggregator))
        )


def scope_term_key(term, variables):
    """The tag key of one scope term: `$agent_name` -> its variable's tag, `!model:x` / `model:x` /
    `reason IN (...)` / `reason NOT IN (...)` -> the key; `*` -> None."""
    term = term.strip().lstrip('!-').strip('()').strip()
    if not term or term == '*':
        return None
    if term.startswith('$'):
        match = TEMPLATE_VARIABLE.match(term)
        return variables.get(match.group(1)) if match else None
    in_list = re.match(r'([^\s:]+)\s+(?:NOT\s+)?IN\b', term)
    if in_list:
        return in_list.group(1)
    return term.split(':', 1)[0]


def template_variable_tags(dashboard):
    """{variable name: the tag key it filters by} of a dashboard (its `prefix`; none: no tag)."""
    return {v['name']: v.get('prefix') for v in dashboard.get('template_variables', []) if v.get('name')}


def iter_widgets(widgets, path='widgets'):
    for index, widget in enumerate(widgets):
        definition = widget.get('definition', {})
        where = '{}[{}] "{}"'.format(path, index, definition.get('title', definition.get('type', '?')))
        yield where, definition
        yield from iter_widgets(definition.get('widgets', []), where + '.widgets')


def dashboard_metric_queries(dashboard):
    for where, definition in iter_widgets(dashboard.get('widgets', [])):
        for request in definition.get('requests', []) if isinstance(definition.get('requests'), list) else []:
            for query in request.get('queries', []):
                if query.get('data_source') == 'metrics':
                    yield where, query['query']
            if 'q' in request:
                yield where, request['q']


def dashboard_service_checks(dashboard):
    for where, definition in iter_widgets(dashboard.get('widgets', [])):
        if definition.get('type') == 'check_status':
            yield where, definition.get('check')


# --- Through datadog-api-client ------------------------------------------------------------------


def deserialization_problems(payload, model_class):
    """The client accepts unknown enum values and oneOf shapes silently; an import would then send them."""
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.exceptions import OpenApiException

    try:
        model = ApiClient(Configuration()).deserialize(json.dumps(payload), (model_class,), True)
    except (OpenApiException, TypeError, ValueError) as e:
        return ['does not deserialize as {}: {}'.format(model_class.__name__, e)]
    return ['{} could not be parsed as any known type'.format(path) for path in unparsed_paths(model)]


def unparsed_paths(model):
    """Paths of the innermost unparsed parts of a deserialized model tree."""
    from datadog_api_client import model_utils

    found = []

    def walk(node, path):
        if isinstance(node, model_utils.UnparsedObject):
            found.append(path)
            return
        if getattr(node, '_unparsed', False) and isinstance(node, model_utils.ModelSimple):
            found.append(path)
        if isinstance(node, model_utils.ModelComposed):
            for instance in node._composed_instances:
                walk(instance, path)
            if node._unparsed:
                found.append(path)
        elif isinstance(node, model_utils.ModelNormal):
            for key, value in node._data_store.items():
                walk(value, '{}.{}'.format(path, key))
            if node._unparsed:
                found.append(path)
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                walk(value, '{}[{}]'.format(path, index))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, '{}.{}'.format(path, key))

    walk(model, '$')
    # A parent is flagged because a child is: keep the innermost paths only.
    unique = sorted(set(found))
    return [p for p in unique if not any(other != p and other.startswith(p) for other in unique)]


# --- Against the OpenAPI specification ------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def load_spec(path):
    """An OpenAPI file: the packaged JSON subset, or a whole spec in YAML."""
    with open(path, encoding='utf-8') as f:
        if str(path).endswith('.json'):
            spec = json.load(f)
        else:
            import yaml

            spec = yaml.load(f, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))
    if not isinstance(spec, dict) or 'components' not in spec:
        raise ValueError('{} is not an OpenAPI specification'.format(path))
    return spec


@functools.lru_cache(maxsize=8)
def schema_validator(spec_path, schema_name):
    """A draft 7 validator of `#/components/schemas/<schema_name>` of the OpenAPI file at `spec_path`."""
    from jsonschema import Draft7Validator

    components = load_spec(spec_path)['components']
    if schema_name not in components.get('schemas', {}):
        raise ValueError('{} has no schema {}'.format(spec_path, schema_name))
    return Draft7Validator({'components': to_json_schema(components), '$ref': '#/components/schemas/' + schema_name})


def to_json_schema(node):
    """OpenAPI 3.0 schemas -> JSON Schema draft 7: `nullable` and boolean exclusive bounds."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: to_json_schema(value) for key, value in node.items()}
    for bound, limit in (('exclusiveMinimum', 'minimum'), ('exclusiveMaximum', 'maximum')):
        if node.get(bound) is True and limit in node:
            node[bound] = node.pop(limit)
        elif node.get(bound) is False:
            del node[bound]
    if node.pop('nullable', False) is True:
        if isinstance(node.get('type'), str):
            node['type'] = [node['type'], 'null']
            if 'enum' in node:
                node['enum'] = list(node['enum']) + [None]
        else:
            # `$ref` ignores its siblings in draft 7, and oneOf/allOf/anyOf reject null: wrap them.
            schema = {key: node.pop(key) for key in ('$ref', 'oneOf', 'anyOf', 'allOf') if key in node}
            if schema:
                node['anyOf'] = [schema, {'type': 'null'}]
    return node


def schema_problems(payload, validator):
    problems = []
    for error in validator.iter_errors(payload):
        for detail in innermost_errors(error):
            path = ''.join('[{}]'.format(p) if isinstance(p, int) else '.{}'.format(p) for p in detail.absolute_path)
            problems.append('${}: {}'.format(path, detail.message))
    return sorted(set(problems))


def innermost_errors(error):
    """Follow a oneOf/anyOf failure into the branch the payload meant, the one whose `type` matched.

    A widget of type `timeseries` with a bad `display_type` fails every branch of WidgetDefinition; the
    useful message is the one of the timeseries branch, not "'alert_id' is a required property".
    """
    if not error.context:
        return [error]
    meant = [errors for errors in _branches(error) if not any(_wrong_type(e) for e in errors)]
    if not meant:
        if isinstance(error.instance, dict) and 'type' in error.instance:
            error.message = 'type {!r} is not valid here'.format(error.instance['type'])
        return [error]
    return [leaf for sub in min(meant, key=len) for leaf in innermost_errors(sub)]


def _branches(error):
    branches = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    return list(branches.values())


def _wrong_type(error):
    """The error says the payload's `type` is not this branch's (directly or in every nested branch)."""
    if list(error.relative_path) == ['type']:
        return True
    return bool(error.context) and not error.relative_path and all(
        any(_wrong_type(e) for e in errors) for errors in _branches(error)
    )
