# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog`: run the check as the Agent would and show what Datadog would receive; plan,
validate and import the assets.

Nothing here runs inside the Agent: the Agent runs `datadog_checks.livekit.check` and the sources it
wires. The asset commands need the `cli` extra (`pip install 'datadog-livekit[cli]'`).
"""
import argparse
import logging
import sys

from .assets import register_cli
from .check_command import register_check_command


def main(argv=None):
    parser = argparse.ArgumentParser(prog='livekit-datadog', description=__doc__.splitlines()[0])
    parser.add_argument('-v', '--verbose', action='store_true', help='show the check logs on stderr')
    subparsers = parser.add_subparsers(dest='command', required=True)
    register_check_command(subparsers)
    register_cli(subparsers)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    return args.func(args)
