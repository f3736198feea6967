# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Environment variables through which the generator configures the worker it starts (job
processes inherit them)."""

JOBS_DIR = 'LK_GENERATOR_JOBS_DIR'  # where each job writes LiveKit's totals
AGENT_NAME = 'LK_GENERATOR_AGENT_NAME'  # the worker's agent name, '' for automatic dispatch
IDLE_PROCESSES = 'LK_GENERATOR_IDLE_PROCESSES'  # job processes kept warm
INSTRUMENT = 'LK_GENERATOR_INSTRUMENT'  # MODULE:FUNC called with (session, job_info)
