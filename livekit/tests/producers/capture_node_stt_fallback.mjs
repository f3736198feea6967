// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// The STT FallbackAdapter lines of a given @livekit/agents release, from the release itself: an STT
// that fails (an API error, then another error) next to one that works, recognized through the
// release's own FallbackAdapter and pino logger.
//
//     node livekit/tests/producers/capture_node_stt_fallback.mjs <dir with node_modules/@livekit/agents>
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const pkgDir = join(resolve(process.argv[2]), 'node_modules', '@livekit', 'agents');
const lk = await import(pathToFileURL(join(pkgDir, 'dist', 'index.js')).href);
const { AudioFrame } = await import(pathToFileURL(join(resolve(process.argv[2]), 'node_modules', '@livekit', 'rtc-node', 'dist', 'index.js')).href);
lk.initializeLogger({ pretty: false, level: 'info' });
const { stt, APIStatusError } = lk;
class FailingSTT extends stt.STT {
  label = 'deepgram.STT';
  constructor(fail) { super({ streaming: true, interimResults: false }); this.fail = fail; }
  get model() { return 'nova-3'; }
  get provider() { return 'deepgram'; }
  async _recognize() {
    if (this.fail === 'api') throw new APIStatusError({ message: 'Service Unavailable', options: { statusCode: 503, retryable: false } });
    if (this.fail === 'other') throw new TypeError('socket hang up');
    return { type: stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives: [{ language: 'en', text: 'hello', startTime: 0, endTime: 1, confidence: 0.9 }] };
  }
  stream() { throw new Error('not used'); }
}
class OkSTT extends FailingSTT { label = 'assemblyai.STT'; constructor() { super(null); } }
const frame = new AudioFrame(new Int16Array(1600), 16000, 1, 1600);
for (const fail of ['api', 'other']) {
  const adapter = new stt.FallbackAdapter({ sttInstances: [new FailingSTT(fail), new OkSTT()], retryIntervalMs: 60000 });
  await adapter.recognize(frame);
}
await new Promise((r) => setTimeout(r, 200));
process.exit(0);
