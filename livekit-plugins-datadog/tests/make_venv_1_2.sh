#!/usr/bin/env bash
# Creates .venv-lk12: the oldest supported livekit-agents line (1.2.x, newest patch) + the companion
# and the producers of real sessions (livekit/tests/producers, `lk_producers`), both editable, + pytest,
# so that the companion's tests (and the check's 1.2 worker test) also run against 1.2:
#   livekit-plugins-datadog/tests/make_venv_1_2.sh [PYTHON]     (default: $PY313, else python3.13)
#   .venv-lk12/bin/python -m pytest livekit-plugins-datadog/tests
# Does nothing when the venv was already built by this version of the script.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-lk12"
PYTHON="${1:-${PY313:-}}"
if [ -z "$PYTHON" ]; then
  PYTHON="$(PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)"
fi

REQUIREMENTS=(
  "livekit-agents==1.2.18"
  # livekit-agents 1.2 imports httpx, which came with openai 1.x; openai 2+ moved to httpx2
  "openai>=1.99.2,<2"
  "pytest==9.0.3"
  # the tests validate every record against docs/companion-records.schema.json
  "jsonschema==4.26.0"
)

STAMP="$VENV/.installed-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [ -f "$STAMP" ]; then
  exit 0
fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
  "${REQUIREMENTS[@]}" -e "$ROOT/livekit-plugins-datadog" -e "$ROOT/livekit/tests/producers"
touch "$STAMP"
