# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A real @livekit/agents worker WITH the companion, run by the repository's session generator.

    python capture.py --companion PATH/index.js [--node-modules DIR] -- <session_generator.py options>

`livekit/tests/producers/session_generator.py --worker node` as it is, except that the worker it
starts is `test/worker/agent.mjs` (the repository's `capture_node.mjs` with the companion) instead of
`capture_node.mjs`; the companion is imported from --companion (the package source, or the packed
package as installed next to the @livekit/agents under test). Writes DIR/agent.log (the worker's
stdout, byte for byte) and DIR/totals.json (LiveKit's own totals, `node_totals.py`, plus
`failed_attempts`: per kind, every attempt a scripted provider failed, retried or not).
"""

from __future__ import annotations

import argparse
from pathlib import Path

# the producers as every venv of the repository installs them (livekit/tests/producers/README.md)
from lk_producers import session_generator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

WORKER = HERE / 'worker' / 'agent.mjs'


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--companion', type=Path, required=True, help="the companion's index.js")
    args, rest = parser.parse_known_args(argv)
    companion = args.companion.resolve()
    if not companion.is_file():
        parser.error(f'no companion at {companion}')
    original = session_generator.node_worker

    def node_worker(gen_args, url, env):
        command, cwd = original(gen_args, url, env)
        env['LK_COMPANION_MODULE'] = str(companion)
        return ['node', str(WORKER)] + command[2:], cwd

    build_totals = session_generator.build_node_totals

    def build_node_totals(records, generator):
        # node_totals.py plus the attempts each scripted provider failed (retried or not)
        totals = build_totals(records, {**generator, 'worker_app': 'livekit-plugins-datadog-node/test/worker/agent.mjs'})
        overall = totals['overall'].setdefault('failed_attempts', {})
        for record in records:
            totals['jobs'][record['job_id']]['failed_attempts'] = record['failed_attempts']
            for kind, count in record['failed_attempts'].items():
                overall[kind] = overall.get(kind, 0) + count
        return totals

    session_generator.node_worker = node_worker
    session_generator.build_node_totals = build_node_totals
    session_generator.main(['--worker', 'node'] + [a for a in rest if a != '--'])


if __name__ == '__main__':
    main()
