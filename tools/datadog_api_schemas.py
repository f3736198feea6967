# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Write the Datadog API schemas that `livekit-datadog assets validate` ships with, from the vendored spec.

    .venv/bin/python tools/datadog_api_schemas.py   # after updating vendor/datadog-api/v1-openapi.yaml
"""
import sys
from pathlib import Path

import yaml

from datadog_checks.livekit.cli.api_schemas import PACKAGED_SCHEMAS, schema_subset, serialize

VENDORED_SPEC = Path(__file__).resolve().parents[1] / 'vendor' / 'datadog-api' / 'v1-openapi.yaml'


def main():
    with open(VENDORED_SPEC, encoding='utf-8') as f:
        spec = yaml.load(f, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))
    subset = schema_subset(spec)
    PACKAGED_SCHEMAS.write_text(serialize(subset), encoding='utf-8')
    print('wrote {} ({} schemas)'.format(PACKAGED_SCHEMAS, len(subset['components']['schemas'])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
