from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
COMPANION_LOGGER = "livekit.plugins.datadog"


@dataclass
class Run:
    """The JSON log of a `conversations.py` run and LiveKit's own numbers for it."""

    lines: list[dict[str, Any]]
    raw: str
    truth: dict[str, Any]

    @property
    def conversations(self) -> list[dict[str, Any]]:
        return self.truth["conversations"]

    def conversation(self, scenario: str) -> dict[str, Any]:
        (found,) = [c for c in self.conversations if c["scenario"] == scenario]
        return found

    def records(self, job_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        return [
            line
            for line in self.lines
            if line.get("name") == COMPANION_LOGGER
            and "livekit.event" in line
            and (job_id is None or line.get("job_id") == job_id)
            and (event is None or line["livekit.event"] == event)
        ]


def run_conversations(out: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """Runs real sessions in a fresh interpreter, exactly like a worker's production logging."""
    subprocess.run(
        [sys.executable, str(HERE / "conversations.py"), "--out", str(out), *args],
        check=True,
        timeout=300,
        env=env,
    )
    raw = (out / "agent.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in raw.splitlines()]
    return Run(lines=lines, raw=raw, truth=json.loads((out / "truth.json").read_text()))


@pytest.fixture(scope="session")
def traced_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Every scenario, with an OTel tracer provider configured through `telemetry.set_tracer_provider`."""
    return run_conversations(tmp_path_factory.mktemp("traced"), "--trace")


@pytest.fixture(scope="session")
def untraced_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_conversations(tmp_path_factory.mktemp("untraced"), "--conversations", "silent")
