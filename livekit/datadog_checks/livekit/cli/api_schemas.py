# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The part of Datadog's API v1 OpenAPI spec that `assets validate` needs, shipped in the package.

The whole spec is 1.6 MB of YAML (`vendor/datadog-api/` in the repository); the Dashboard and Monitor
schemas with everything they reference are a sixth of it, read as JSON without a YAML parser. The
file is made from the vendored spec by `tools/datadog_api_schemas.py` and a test keeps it equal to
what that makes, so the two cannot drift.
"""
import json
import re
from pathlib import Path

PACKAGED_SCHEMAS = Path(__file__).resolve().parent / 'data' / 'datadog-api-v1-schemas.json'
ROOT_SCHEMAS = ('Dashboard', 'Monitor')
SCHEMA_REF = re.compile(r'^#/components/schemas/([^/]+)$')


def schema_subset(spec, roots=ROOT_SCHEMAS):
    """A spec with only `roots` and the component schemas they reference, directly or not."""
    schemas = spec['components']['schemas']
    kept = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept[name] = schemas[name]
        pending.extend(referenced_schemas(kept[name]))
    return {
        'openapi': spec['openapi'],
        'info': spec['info'],
        'components': {'schemas': {name: kept[name] for name in sorted(kept)}},
    }


def referenced_schemas(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == '$ref' and isinstance(value, str):
                match = SCHEMA_REF.match(value)
                if match:
                    yield match.group(1)
            else:
                yield from referenced_schemas(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced_schemas(item)


def serialize(subset):
    return json.dumps(subset, indent=None, sort_keys=True, separators=(',', ':')) + '\n'
