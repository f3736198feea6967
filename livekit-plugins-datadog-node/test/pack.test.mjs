// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// `npm pack` gives an installable package: the tarball holds the sources and the README only,
// installs into an empty folder next to the pinned @livekit/agents (its peer) and imports there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { PACKAGE } from './helpers.mjs';

const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

it('packs, installs from the tarball and imports next to @livekit/agents', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lk-companion-pack-'));
  try {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], PACKAGE));
    assert.deepEqual(
      packed.files.map((f) => f.path).sort(),
      ['README.md', 'package.json', 'src/index.d.ts', 'src/index.js', 'src/records.js', 'src/version.js'],
    );
    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // the peer is the app's to install; --legacy-peer-deps keeps npm from fetching it here
    npm(['install', '--legacy-peer-deps', join(scratch, packed.filename)], app);
    mkdirSync(join(app, 'node_modules', '@livekit'), { recursive: true });
    symlinkSync(join(PACKAGE, 'node_modules', '@livekit', 'agents'), join(app, 'node_modules', '@livekit', 'agents'));
    const script = `
      import { instrument, setOutcome, version } from 'livekit-plugins-datadog';
      import * as lk from '@livekit/agents';
      const where = import.meta.resolve('livekit-plugins-datadog');
      console.log(JSON.stringify({ where, version, sdk: lk.version, api: [typeof instrument, typeof setOutcome] }));`;
    const result = JSON.parse(execFileSync('node', ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' }));
    assert.ok(result.where.startsWith(`file://${join(app, 'node_modules', 'livekit-plugins-datadog')}`), result.where);
    assert.deepEqual([result.version, result.sdk, result.api], ['0.1.0', '1.9.0', ['function', 'function']]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
