// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// Runs a real @livekit/agents worker with the companion (test/capture.py, through the repository's
// session generator) and reads what it wrote: the worker's log and LiveKit's own totals.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = resolve(PACKAGE, '..');
export const PYTHON = process.env.PYTHON ?? join(REPO, '.venv', 'bin', 'python');

// The releases under test: the pinned one (this folder's devDependencies, the source of the
// companion) and the oldest supported one (`.oldest`, with the packed companion installed there).
export const RELEASES = {
  '1.9.0': { nodeModules: join(PACKAGE, 'node_modules'), companion: join(PACKAGE, 'src', 'index.js') },
  '1.6.4': {
    nodeModules: join(PACKAGE, '.oldest', 'node_modules'),
    companion: join(PACKAGE, '.oldest', 'node_modules', 'livekit-plugins-datadog', 'src', 'index.js'),
  },
};

/** Why a release cannot be tested here, or false. */
export function missing(release) {
  const { nodeModules, companion } = RELEASES[release];
  for (const path of [join(nodeModules, '@livekit', 'agents', 'package.json'), companion, PYTHON]) {
    if (!existsSync(path)) return `${path} is missing: run \`make node-companion-test\` at the repository root`;
  }
  return false;
}

/**
 * A real worker and `conversations` real sessions; returns { lines, totals }.
 * @param {string} release
 * @param {string} out
 * @param {number} conversations
 */
export function capture(release, out, conversations = 10) {
  const { nodeModules, companion } = RELEASES[release];
  const args = [
    join(PACKAGE, 'test', 'capture.py'),
    '--companion', companion, '--',
    '--out', out, '--node-modules', nodeModules,
    '--conversations', String(conversations), '--time-scale', '0.5', '--concurrency', '5', '--timeout', '300',
  ];
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 400_000 });
  if (run.status !== 0) {
    const stderr = existsSync(join(out, 'worker.stderr')) ? readFileSync(join(out, 'worker.stderr'), 'utf8') : '';
    throw new Error(`capture.py failed (${run.status}): ${run.stderr}\n${stderr}`);
  }
  return read(out);
}

/** @param {string} dir a capture's output folder (agent.log, totals.json) */
export function read(dir, log = 'agent.log', totals = 'totals.json') {
  const lines = readFileSync(join(dir, log), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { lines, totals: JSON.parse(readFileSync(join(dir, totals), 'utf8')) };
}

export const isRecord = (line) => typeof line.msg === 'string' && line.msg.startsWith('livekit.datadog ');
export const jobOf = (line) => line.jobID ?? line.jobId;

/** The companion records of each job id, in log order. */
export function recordsByJob(lines) {
  const jobs = new Map();
  for (const line of lines.filter(isRecord)) {
    const job = jobOf(line);
    if (!jobs.has(job)) jobs.set(job, []);
    jobs.get(job).push(line);
  }
  return jobs;
}

export const sum = (values) => values.reduce((a, b) => a + b, 0);
