# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The check's side of the companion contract, `docs/companion-records.schema.json`: the version it
accepts is the schema's, every field it reads is in the schema with the type it reads it as, and
records written by the real companion validate and parse.

The companion's side (every record of real sessions validates) is in livekit-plugins-datadog/tests.
Nothing at run time reads docs/: the readers are the check's own code, held to the schema here.
"""

import json
import re
from pathlib import Path

import jsonschema
import pytest

from datadog_checks.base.utils.serialization import json as dd_json
from datadog_checks.livekit.logs.formats import companion
from datadog_checks.livekit.logs.parsers import BAD_VALUE, UNKNOWN_SCHEMA, read_line

from .log_helpers import FIXTURES

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / 'docs' / 'companion-records.schema.json').read_text())
VERSION = SCHEMA['properties']['livekit.schema']['const']
EVENTS = SCHEMA['$defs']
# keys that choose how a line is read rather than being read as a value
SELECTORS = {'message', 'level', 'name', 'timestamp', 'livekit.event', 'livekit.schema'}
WORKER_FIELDS = {'pid': 4242, 'job_id': 'AJ_contract', 'room': 'call-contract', 'room_id': 'RM_contract'}
WORKER_FIELDS['agent_name'] = 'support-agent'


def _properties(event, role=None):
    """{key: its JSON schema} of a record of `event` (and of that `role` for a turn)."""
    definition = EVENTS[event]
    properties = {**SCHEMA['properties'], **definition['properties']}
    if 'if' in definition:
        branch = 'then' if role == definition['if']['properties']['role']['const'] else 'else'
        properties.update(definition[branch]['properties'])
    return properties


# `^[<class>]{n}$` or `{m,n}`: the form of every `pattern` of the schema (trace and span ids, outcome)
_CLASS_PATTERN = re.compile(r'\^\[(?P<chars>[^\]]+)\]\{(?:\d+,)?(?P<length>\d+)\}\$')


def _matching(pattern):
    """A string matching a `^[chars]{n}$` pattern: its first character, n times."""
    form = _CLASS_PATTERN.fullmatch(pattern)
    assert form, f'a pattern this generator does not know: {pattern}'
    value = form['chars'][0] * int(form['length'])
    assert re.fullmatch(pattern, value), (pattern, value)
    return value


def _value(schema):
    """A value of the type a property's schema declares (a string matching its `pattern`)."""
    if 'const' in schema:
        return schema['const']
    if 'enum' in schema:
        return schema['enum'][0]
    if 'pattern' in schema:
        return _matching(schema['pattern'])
    return {
        'integer': 3,
        'number': 0.25,
        'boolean': False,
        'string': 'x',
        'object': {'llm': 1},
        'array': [{'type': 'llm_usage'}],
    }[schema['type']]


def _wrong_values(schema):
    """Values of other JSON types (and a fraction for an integer)."""
    kind = schema.get('type')
    if kind in ('integer', 'number', 'boolean'):
        return ['1', [1]] + ([0.5] if kind == 'integer' else [])
    if kind == 'string' or 'enum' in schema:
        return [3, True]
    return []


def _record(event, role=None):
    """A record of `event` with every field the schema has for it, each with a value of its type."""
    record = {
        key: _value(schema)
        for key, schema in _properties(event, role).items()
        if key not in ('message', 'livekit.event')
    }
    record.update(WORKER_FIELDS, message=f'livekit.datadog {event}', timestamp='2026-12-04T10:00:00.000000+00:00')
    record['livekit.event'] = event
    if role is not None:
        record['role'] = role
    return record


RECORDS = [(event, None) for event in EVENTS if event != 'turn'] + [('turn', 'user'), ('turn', 'assistant')]


class ReadKeys(dict):
    """A decoded line that notes every key the check looks up."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def _read(record):
    """(the check's `Line`, the keys it read) of one record."""
    seen = []

    def loads(raw):
        seen.append(ReadKeys(dd_json.loads(raw)))
        return seen[-1]

    line = read_line(json.dumps(record).encode(), loads=loads)
    assert not isinstance(line, str), line
    return line, seen[0].read - {None}  # None: a key table's "this format has no such field"


def _assert_valid(record):
    errors = [f'{list(error.path)}: {error.message}' for error in jsonschema.Draft202012Validator(SCHEMA).iter_errors(record)]
    assert not errors, errors


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_check_reads_the_schemas_versions_only():
    # the newest is the schema's; 1 is still written by the Node companion and older Python ones
    assert max(companion.COMPANION_SCHEMAS) == VERSION and set(companion.COMPANION_SCHEMAS) == set(range(1, VERSION + 1))
    record = _record('llm_request')
    for version in companion.COMPANION_SCHEMAS:
        assert _read({**record, 'livekit.schema': version})[0].rejected is None
    for other in (VERSION + 1, 0, str(VERSION), None):
        line, _ = _read({**record, 'livekit.schema': other})
        assert (line.event, line.rejected) == (None, UNKNOWN_SCHEMA), other


def test_the_check_knows_the_schemas_events():
    assert set(companion.MESSAGES) == {event['properties']['message']['const'] for event in EVENTS.values()}
    assert set(EVENTS) == set(SCHEMA['properties']['livekit.event']['enum'])


@pytest.mark.parametrize('event, role', RECORDS)
def test_a_record_of_the_schema_is_read_as_a_companion_record(event, role):
    record = _record(event, role)
    _assert_valid(record)
    line, _ = _read(record)
    assert (line.rejected, line.companion, line.service) == (None, True, record['service'])
    assert line.event is not None
    assert (line.job_id, line.agent_name, line.room) == ('AJ_contract', 'support-agent', 'call-contract')


@pytest.mark.parametrize('event, role', RECORDS)
def test_every_field_the_check_reads_is_in_the_schema_with_its_type(event, role):
    """Each key the check looks up is a property of the record in the schema; a value of the type the
    schema gives is read, a value of another type rejects the record (`bad_value`)."""
    record = _record(event, role)
    properties = _properties(event, role)
    _, read = _read(record)
    assert read - SELECTORS, 'the check reads fields of the record'
    assert read <= set(properties), sorted(read - set(properties))
    for key in sorted(read - SELECTORS):
        for wrong in _wrong_values(properties[key]):
            line, _ = _read({**record, key: wrong})
            assert line.rejected == BAD_VALUE, (key, wrong)


def test_the_error_kinds_the_check_reads_are_the_schemas():
    record = _record('error')
    for kind in EVENTS['error']['properties']['error_kind']['enum']:
        assert _read({**record, 'error_kind': kind})[0].event.kind == kind
    assert _read({**record, 'error_kind': 'database'})[0].rejected == BAD_VALUE


def test_records_of_the_real_companion_validate_and_parse():
    """The companion 0.1.0 on livekit-agents 1.8.9 (fixtures/logs/README.md, reference_lines.jsonl).

    It wrote schema 1, which the newest schema only extends: its records are records of the newest
    schema but for the version. (Schema-2 records of real sessions: test_tool_and_turn_taking.py.)"""
    raws = [raw for raw in (FIXTURES / 'reference_lines.jsonl').read_bytes().splitlines() if b'"livekit.event"' in raw]
    assert len(raws) == 2
    for raw in raws:
        record = json.loads(raw)
        assert record['livekit.schema'] in companion.COMPANION_SCHEMAS
        _assert_valid({**record, 'livekit.schema': VERSION})
        line = read_line(raw)
        assert (line.rejected, line.companion) == (None, True)
        assert line.event is not None and line.job_id
