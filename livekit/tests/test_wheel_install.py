# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The path of a user without an Agent: build the wheel, `pip install 'datadog-livekit[cli]'` into a fresh
venv, run `livekit-datadog` from an empty folder. Nothing of the checkout may be needed once installed."""

import json
import os
import shutil
import subprocess
import sys
import venv
from collections import Counter
from pathlib import Path

import pytest

from .log_helpers import FIXTURES

INTEGRATION = Path(__file__).resolve().parents[1]
SAMPLE = FIXTURES / 'python-1.8.9-session.jsonl'
TOTALS = FIXTURES / 'python-1.8.9-session.totals.json'
# pip and the check must see only the fresh venv, never this test's environment
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(('PYTHON', 'VIRTUAL_ENV', 'PIP_REQUIRE'))}


def run(command, cwd, timeout=900):
    completed = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True, timeout=timeout
    )
    return completed.returncode, completed.stdout, completed.stderr


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """A fresh venv with the wheel and its `cli` extra, as `pip install 'datadog-livekit[cli]'` makes it."""
    work = tmp_path_factory.mktemp('wheel')
    status, out, err = run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', work / 'dist', INTEGRATION], work
    )
    assert status == 0, err
    (wheel,) = (work / 'dist').glob('datadog_livekit-*.whl')
    environment = work / 'venv'
    venv.EnvBuilder(with_pip=True).create(environment)
    pip = environment / 'bin' / 'pip'
    status, out, err = run([pip, 'install', '-q', '--disable-pip-version-check', f'{wheel}[cli]'], work)
    assert status == 0, err
    empty = work / 'empty'
    empty.mkdir()
    return environment / 'bin' / 'livekit-datadog', empty


def test_check_from_an_empty_folder_gives_livekit_s_totals(installed, tmp_path):
    command, empty = installed
    log = tmp_path / 'agent.log'
    shutil.copy(SAMPLE, log)
    config = empty / 'conf.yaml'
    instance = {'log_paths': [str(log)], 'start_position': 'beginning', 'conversation_idle_timeout': 60}
    config.write_text('init_config: {}\ninstances:\n  - ' + json.dumps(instance) + '\n')
    status, out, err = run([command, 'check', '--config', config, '--state-dir', empty / 'state', '--json'], empty)
    assert status == 0, err
    result = json.loads(out)
    totals = Counter()
    for metric in result['metrics']:
        totals[metric['name']] += metric['value']
    overall = json.loads(TOTALS.read_text())['overall']
    assert totals['livekit.llm.tokens.input'] == overall['tokens']['prompt']
    assert totals['livekit.llm.tokens.output'] == overall['tokens']['completion']
    assert totals['livekit.llm.tokens.cached'] == overall['tokens']['cached']
    assert totals['livekit.llm.requests'] == sum(entry['count'] for entry in overall['metrics_counts']['llm'])
    assert totals['livekit.tts.requests'] == sum(entry['count'] for entry in overall['metrics_counts']['tts'])
    assert totals['livekit.turns.user'] == overall['user_turns']
    assert totals['livekit.conversations.started'] == overall['conversations']
    assert result['errors'] == []
    assert [s['status'] for s in result['service_checks'] if s['name'] == 'livekit.logs.can_read'] == [0]


def test_assets_validate_from_an_empty_folder(installed):
    command, empty = installed
    status, out, err = run([command, 'assets', 'validate'], empty)
    assert status == 0, out + err
    assert out.startswith('OK: 1 dashboard(s) and ')
    # validated against the schemas inside the installed package, not a file of the checkout
    assert str(empty.parent / 'venv') in out and str(INTEGRATION) not in out
