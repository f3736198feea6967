# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The logs pipeline `assets/logs/livekit.yaml` and its tests `livekit_tests.yaml`.

Datadog runs pipeline tests in its own tooling only. Here: the pipeline, mapped to the public API format,
validates against `LogsPipeline` of Datadog's v1 OpenAPI spec, and a small interpreter of the processor
types it uses runs every sample and must give the expected result.

The interpreter follows Datadog's documented semantics (docs "Processors", and the status mapping of the
logs backend): a JSON line becomes attributes, and a key with dots (`"livekit.event"`, `"code.file.path"`)
is the nested path it spells, as Datadog shows and searches it (`@livekit.event` is the same attribute
whether the line says `{"livekit.event": ...}` or `{"livekit": {"event": ...}}`); remappers read their
sources in order and use the first one present; the attribute remapper moves the value (unless preserveSource) and skips a target that exists
(unless overrideOnConflict); the category processor writes the name of the first category whose query
matches; the status remapper maps strings by prefix and numbers 0..7 as syslog severities; the date
remapper reads ISO 8601 strings and epoch milliseconds; the message remapper makes its source the log's
message; the service remapper sets the log's service; the trace-id remapper sets the log's trace id. It refuses any processor or query it does not know,
so the pipeline cannot silently outgrow what is tested here.

Datadog's rules for integration pipelines (docs "Create a Log Pipeline", developers/integrations/log_pipeline)
are checked too: custom facets are on attributes namespaced with the integration's name (`livekit.`), are
grouped under the source (`livekit`) and do not duplicate a standard attribute's facet.
"""
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from datadog_checks.livekit.cli.validate import load_spec, schema_problems, schema_validator

LOGS = Path(__file__).resolve().parents[1] / 'assets' / 'logs'
REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / 'vendor' / 'datadog-api' / 'v1-openapi.yaml'
LOG_FIXTURES = REPO / 'livekit' / 'tests' / 'fixtures' / 'logs'
PIPELINE = yaml.safe_load((LOGS / 'livekit.yaml').read_text())
TESTS = yaml.safe_load((LOGS / 'livekit_tests.yaml').read_text())['tests']

# Asset format (camelCase) -> public API format (snake_case); `enabled` is `is_enabled` in the API.
API_KEYS = {
    'enabled': 'is_enabled',
    'preserveSource': 'preserve_source',
    'overrideOnConflict': 'override_on_conflict',
    'sourceType': 'source_type',
    'targetType': 'target_type',
    'matchRules': 'match_rules',
    'supportRules': 'support_rules',
}


def to_api(node):
    if isinstance(node, list):
        return [to_api(item) for item in node]
    if isinstance(node, dict):
        return {API_KEYS.get(key, key): to_api(value) for key, value in node.items()}
    return node


# --- The interpreter -----------------------------------------------------------------------------

STATUS_PREFIXES = (
    (('emerg', 'f'), 'emergency'),
    (('a',), 'alert'),
    (('c',), 'critical'),
    (('err',), 'error'),
    (('w',), 'warn'),
    (('n',), 'notice'),
    (('i',), 'info'),
    (('d', 't', 'v'), 'debug'),
    (('o', 's'), 'ok'),
)
SYSLOG = ('emergency', 'alert', 'critical', 'error', 'warn', 'notice', 'info', 'debug')
MISSING = object()


def get_path(attributes, path):
    """A flat key with dots (`code.file.path`) first, else the nested path."""
    if path in attributes:
        return attributes[path]
    node = attributes
    for part in path.split('.'):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def pop_path(attributes, path):
    if path in attributes:
        return attributes.pop(path)
    parts = path.split('.')
    parent = get_path(attributes, '.'.join(parts[:-1])) if len(parts) > 1 else attributes
    return parent.pop(parts[-1]) if isinstance(parent, dict) and parts[-1] in parent else MISSING


def nested(attributes):
    """The attributes of a parsed JSON line as Datadog holds them: `{"a.b": 1}` is `{"a": {"b": 1}}`."""
    result = {}
    for key, value in attributes.items():
        value = nested(value) if isinstance(value, dict) else value
        parts = key.split('.')
        node = result
        for part in parts[:-1]:
            if not isinstance(node.get(part, {}), dict):
                break
            node = node.setdefault(part, {})
        else:
            if isinstance(node.get(parts[-1]), dict) and isinstance(value, dict):
                node[parts[-1]].update(value)
            else:
                node[parts[-1]] = value
            continue
        result[key] = value  # a path through a value that is not an object: the key stays as it is
    return result


def set_path(attributes, path, value):
    parts = path.split('.')
    node = attributes
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def status_of(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 'info'
    if not isinstance(value, str):
        return SYSLOG[int(value)] if 0 <= value <= 7 else 'info'
    lowered = value.lower()
    if lowered == 'e':
        return 'error'
    for prefixes, status in STATUS_PREFIXES:
        if lowered.startswith(prefixes):
            return status
    return 'info'


def epoch_ms(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace('Z', '+00:00')).timestamp() * 1000)
    except (TypeError, ValueError):
        return None


QUERY = re.compile(r'^@([A-Za-z0-9_.]+):(\S+)$')


def matches(query, attributes):
    match = QUERY.match(query)
    assert match, 'the test interpreter does not know the query syntax of {!r}'.format(query)
    value = get_path(attributes, match.group(1))
    wanted = match.group(2)
    if isinstance(value, bool) or value is MISSING:
        return False
    if isinstance(value, (int, float)):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return str(value) == wanted


def first_present(attributes, sources):
    for source in sources:
        value = get_path(attributes, source)
        if value is not MISSING:
            return source, value
    return None, MISSING


def run_pipeline(pipeline, line):
    log = {'custom': nested(json.loads(line)), 'message': '', 'status': 'info', 'timestamp': None}
    log.update(service=None, trace_id=None)
    log['tags'] = ['source:LOGS_SOURCE']
    attributes = log['custom']
    if 'ddsource' in attributes:  # the intake takes it as the log's source
        attributes.pop('ddsource')
    for processor in pipeline['processors']:
        if not processor.get('enabled'):
            continue
        kind = processor['type']
        if kind == 'attribute-remapper':
            assert processor['sourceType'] == processor['targetType'] == 'attribute'
            if not processor['overrideOnConflict'] and get_path(attributes, processor['target']) is not MISSING:
                continue
            source, value = first_present(attributes, processor['sources'])
            if value is not MISSING:
                if not processor['preserveSource']:
                    pop_path(attributes, source)
                set_path(attributes, processor['target'], value)
        elif kind == 'category-processor':
            for category in processor['categories']:
                if matches(category['filter']['query'], attributes):
                    set_path(attributes, processor['target'], category['name'])
                    break
        elif kind == 'status-remapper':
            _, value = first_present(attributes, processor['sources'])
            if value is not MISSING:
                log['status'] = status_of(value)
        elif kind == 'date-remapper':
            _, value = first_present(attributes, processor['sources'])
            if value is not MISSING and epoch_ms(value) is not None:
                log['timestamp'] = epoch_ms(value)
        elif kind == 'message-remapper':
            source, value = first_present(attributes, processor['sources'])
            if isinstance(value, str):
                log['message'] = value
                pop_path(attributes, source)
        elif kind == 'service-remapper':
            _, value = first_present(attributes, processor['sources'])
            if isinstance(value, str):
                log['service'] = value
        elif kind == 'trace-id-remapper':
            _, value = first_present(attributes, processor['sources'])
            if isinstance(value, str):
                log['trace_id'] = value
        else:
            pytest.fail('the test interpreter does not know the processor type {!r}'.format(kind))
    return log


def comparable(log):
    return {key: log[key] for key in ('custom', 'message', 'status', 'tags', 'timestamp')}


# --- Tests ----------------------------------------------------------------------------------------


def test_pipeline_matches_the_logs_pipeline_schema_of_the_api():
    api = to_api(PIPELINE['pipeline'])
    assert api.pop('type') == 'pipeline'
    assert schema_problems(api, schema_validator(str(SPEC), 'LogsPipeline')) == []


def test_the_schema_check_catches_a_broken_processor():
    api = to_api(PIPELINE['pipeline'])
    api.pop('type')
    api['processors'][0]['type'] = 'attribute-remaper'
    api['processors'][-1]['sources'] = 'trace_id'
    problems = schema_problems(api, schema_validator(str(SPEC), 'LogsPipeline'))
    assert any('processors[0]' in p for p in problems), problems
    assert any("processors[{}].sources: 'trace_id' is not of type 'array'".format(len(api['processors']) - 1) in p for p in problems), problems


def test_pipeline_is_for_the_livekit_source_and_every_processor_is_named_and_enabled():
    assert PIPELINE['id'] == 'livekit' and PIPELINE['metric_id'] == 'livekit'
    pipeline = PIPELINE['pipeline']
    assert pipeline['filter']['query'] == 'source:livekit' and pipeline['enabled'] is True
    for processor in pipeline['processors']:
        assert processor['name'] and processor['enabled'] is True, processor
    assert {f['path'] for f in PIPELINE['facets']} == {
        'livekit.job_id', 'livekit.room', 'livekit.room_id', 'livekit.agent_name', 'livekit.model',
        'livekit.provider', 'livekit.event', 'livekit.close_reason', 'livekit.turns', 'livekit.min_turns',
    }  # fmt: skip


# The standard attributes (docs "Default standard attributes") and reserved attributes whose facets Datadog
# adds itself: a custom facet must not duplicate them.
STANDARD_PREFIXES = (
    'network.', 'http.', 'db.', 'logger.', 'error.', 'usr.', 'dns.', 'evt.', 'syslog.', 'dd.', 'user_agent.',
)  # fmt: skip
STANDARD = {'host', 'source', 'status', 'service', 'trace_id', 'span_id', 'message', 'date', 'duration', 'env', 'version'}


def test_custom_facets_are_namespaced_grouped_under_the_source_and_typed():
    """Datadog's requirements for the custom facets of an integration pipeline."""
    source = PIPELINE['pipeline']['filter']['query'].split(':', 1)[1]
    for facet in PIPELINE['facets']:
        path = facet['path']
        assert path.startswith(source + '.') and path.count('.') == 1, path
        assert path not in STANDARD and not path.startswith(STANDARD_PREFIXES), path
        assert facet['groups'] == [source], facet
        assert facet['source'] == 'log' and facet['name'] and facet['description'], facet
        assert (facet['facetType'], facet['type']) in {('list', 'string'), ('range', 'integer')}, facet
        assert 'lk.pii' not in json.dumps(facet), facet
    assert len({f['path'] for f in PIPELINE['facets']}) == len(PIPELINE['facets'])


def results():
    return [run_pipeline(PIPELINE['pipeline'], case['sample']) for case in TESTS]


def test_every_facet_path_is_set_by_a_sample_with_the_facet_type():
    kinds = {'string': str, 'integer': int}
    for facet in PIPELINE['facets']:
        values = [get_path(log['custom'], facet['path']) for log in results()]
        values = [value for value in values if value is not MISSING]
        assert values, facet['path']
        assert all(type(value) is kinds[facet['type']] for value in values), (facet['path'], values)


def test_every_processor_and_every_remapper_source_is_exercised_by_a_sample():
    processors = PIPELINE['pipeline']['processors']
    for index, processor in enumerate(processors):
        without = dict(PIPELINE['pipeline'], processors=processors[:index] + processors[index + 1 :])
        assert any(
            comparable(run_pipeline(without, case['sample'])) != case['result']
            or run_pipeline(without, case['sample'])[key] != run_pipeline(PIPELINE['pipeline'], case['sample'])[key]
            for case in TESTS
            for key in ('service', 'trace_id')
        ), processor['name']
        if processor['type'] == 'attribute-remapper':
            for source in processor['sources']:
                assert any(
                    get_path(nested(json.loads(case['sample'])), source) is not MISSING for case in TESTS
                ), (processor['name'], source)


def test_no_source_of_a_namespaced_attribute_is_left_behind():
    remapped = [p for p in PIPELINE['pipeline']['processors'] if p['type'] == 'attribute-remapper']
    for log in results():
        for processor in remapped:
            for source in processor['sources']:
                assert get_path(log['custom'], source) is MISSING, (source, log['custom'])
    # LiveKit's `lk.pii.*` attributes stay where LiveKit put them, so a PII mask finds them and no facet shows them
    pii = [case for case in TESTS if '"lk.pii.' in case['sample']]
    assert pii
    for case in pii:
        log = run_pipeline(PIPELINE['pipeline'], case['sample'])
        assert log['custom']['lk'] == nested(json.loads(case['sample']))['lk']


def test_a_key_with_dots_is_the_nested_path_it_spells():
    line = json.dumps({'livekit.event': 'x', 'livekit': {'schema': 1}, 'code.file.path': '/a', 'code.line.number': 3})
    assert nested(json.loads(line)) == {'livekit': {'event': 'x', 'schema': 1}, 'code': {'file': {'path': '/a'}, 'line': {'number': 3}}}
    # a path through a value that is not an object stays a flat key
    assert nested({'error': 'boom', 'error.type': 'E'}) == {'error': 'boom', 'error.type': 'E'}


@pytest.mark.parametrize('case', TESTS, ids=['{}-{}'.format(i, json.loads(t['sample']).get('msg') or json.loads(t['sample'])['message'])[:60] for i, t in enumerate(TESTS)])
def test_each_sample_gives_its_expected_result(case):
    assert comparable(run_pipeline(PIPELINE['pipeline'], case['sample'])) == case['result']


def test_samples_cover_python_node_the_companion_and_the_check_records():
    samples = [json.loads(case['sample']) for case in TESTS]
    python = [s for s in samples if isinstance(s.get('level'), str) and s.get('name') == 'livekit.agents']
    companion = [s for s in samples if s.get('name') == 'livekit.plugins.datadog']
    node = [s for s in samples if isinstance(s.get('level'), int) and 'msg' in s]
    assert len(python) >= 5 and len(node) >= 6
    assert {s['level'] for s in node} >= {30, 40, 50}
    assert any('jobId' in s for s in node) and any('jobID' in s for s in node)
    assert {s['livekit.event'] for s in companion} >= {'llm_request', 'conversation'}
    assert any(s.get('livekit.event') == 'conversation.short' and 'trace_id' in s for s in samples)


def test_both_languages_and_the_records_end_with_the_same_job_id_attribute():
    job_ids = {log['custom'].get('livekit', {}).get('job_id') for log in results()}
    assert {'AJ_node1234abcd', 'AJ_49b9c7b9bb69', 'AJ_SU8S896NxfEj', 'AJ_test02text', 'AJ_a50424ee1723'} <= job_ids


def test_pino_levels_become_datadog_statuses():
    line = json.dumps({'time': 1795552107036, 'msg': 'x', 'level': 0})
    statuses = {}
    for level in (10, 20, 30, 40, 50, 60):
        log = run_pipeline(PIPELINE['pipeline'], line.replace('"level": 0', '"level": {}'.format(level)))
        statuses[level] = log['status']
    assert statuses == {10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'emergency'}


def test_the_short_conversation_record_links_to_its_trace_and_service():
    record = next(case for case in TESTS if '"conversation.short"' in case['sample'])
    log = run_pipeline(PIPELINE['pipeline'], record['sample'])
    assert log['trace_id'] == json.loads(record['sample'])['trace_id']
    assert log['service'] == json.loads(record['sample'])['service']
    assert log['message'].startswith('LiveKit conversation below')


def test_the_record_the_check_sends_ends_under_the_facet_paths():
    """`Conversations.short_record`, as sent (flat names), lands on the facets of the dashboard's list."""
    from datadog_checks.livekit.conversations import Conversation, Conversations, Ended

    conversations = Conversations(min_turns=3, idle_timeout=600.0, max_open=10)
    conversation = Conversation('AJ_1', 'python', 1795546180.0)
    conversation.room, conversation.agent_name, conversation.trace_id = 'call-1', 'support', '4bf92f3577b34da6a3ce929d0e0e4736'
    record = conversations.short_record(Ended(conversation, 'error', 1, 14.5, 1795546194.5, 0))
    record['timestamp'] = int(record['timestamp'] * 1000)  # what `send_log` does with a time in seconds
    log = run_pipeline(PIPELINE['pipeline'], json.dumps(record))
    assert log['custom']['livekit'] == {
        'event': 'conversation.short', 'job_id': 'AJ_1', 'room': 'call-1', 'agent_name': 'support', 'turns': 1,
        'min_turns': 3, 'close_reason': 'error',
    }  # fmt: skip
    assert log['trace_id'] == record['trace_id'] and log['timestamp'] == record['timestamp']
    assert log['message'] == 'LiveKit conversation below 3 turns'


def test_the_interpreter_refuses_what_it_does_not_know():
    unknown = {'processors': [{'type': 'grok-parser', 'enabled': True}]}
    with pytest.raises(pytest.fail.Exception):
        run_pipeline(unknown, '{"message": "x"}')


def test_the_api_spec_is_the_vendored_one():
    assert SPEC.is_relative_to(REPO) and SPEC.is_file()
    assert 'LogsPipeline' in load_spec(str(SPEC))['components']['schemas']


def test_python_samples_are_real_lines():
    """Samples in LiveKit's Python format are lines LiveKit or the companion really wrote: the captured
    fixtures, or `reference_lines.jsonl` (lines kept from a named source, see the fixtures' README)."""
    files = sorted(LOG_FIXTURES.glob('*.jsonl'))
    assert LOG_FIXTURES / 'reference_lines.jsonl' in files
    assert all(path.resolve().is_relative_to(REPO) for path in files)
    lines = {line for path in files for line in path.read_text(encoding='utf-8').splitlines()}
    for case in TESTS:
        if isinstance(json.loads(case['sample']).get('level'), str):
            assert case['sample'] in lines, case['sample'][:80]
