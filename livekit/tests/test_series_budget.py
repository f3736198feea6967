# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The series budget, measured as `make bench` measures it: `bench/series_budget.py` runs the real check on
real captured LiveKit output. A new tag, a percentile panel or a label kept by default shows here."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / 'bench' / 'series_budget.py'
BUDGET = 500


def test_the_reference_deployment_stays_within_the_budget():
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), '--json'], capture_output=True, text=True, timeout=300, check=True
    )
    rows = {row['shape'].split(':')[0]: row for row in json.loads(completed.stdout)}
    reference = rows['reference']
    assert reference['agents'] == 2 and reference['models'] == {'llm': 3, 'tts': 2, 'stt': 2}
    assert reference['series_with_percentiles'] <= BUDGET
    # the plan is what keeps it there: percentiles with every tag queryable cost ten times more
    assert reference['series_every_tag_queryable'] > 10 * reference['series_with_percentiles']
    small = rows['one small agent, its worker endpoints']
    assert small['series'] < reference['series'] < rows['20 agents x 10 LLM models, their workers, a LiveKit server']['series']
