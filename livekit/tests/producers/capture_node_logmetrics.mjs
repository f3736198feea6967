// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// What a given @livekit/agents release's own `metrics.logMetrics()` writes, with its own pino
// logger, for one metrics object of each kind:
//   node capture_node_logmetrics.mjs DIR > node-<version>-logmetrics.jsonl
// DIR is the installed package (`.../node_modules/@livekit/agents`) or a project directory with
// `node_modules/@livekit/agents` (e.g. a scratch dir after `npm install @livekit/agents@1.4.11`).
// The logger is set up as the worker sets it up (`initializeLogger({ pretty: false, level: 'info' })`,
// pino JSON on stdout). No job runs here, so the lines carry no job fields (`jobID`, `room_id`).
// The objects use the field names of that release's metrics/base.ts; kinds a release's logMetrics
// does not know (e.g. `interruption_metrics` before 1.2) write nothing. stderr gets, per object,
// the fields passed, so a test can compare the line with what went in.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node capture_node_logmetrics.mjs <@livekit/agents package dir | project dir>');
  process.exit(2);
}
let packageDir = resolve(dir);
if (!existsSync(join(packageDir, 'dist', 'index.js'))) packageDir = join(packageDir, 'node_modules', '@livekit', 'agents');
const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
if (pkg.name !== '@livekit/agents') throw new Error(`${packageDir} is not @livekit/agents`);
const lk = await import(pathToFileURL(join(packageDir, 'dist', 'index.js')).href);
lk.initializeLogger({ pretty: false, level: 'info' });
const { logMetrics } = lk.metrics;

const now = Date.now();
const objects = [
  {
    type: 'llm_metrics',
    label: 'openai.LLM',
    requestId: 'chatcmpl-4f2a9c1e7b',
    timestamp: now,
    durationMs: 1843,
    ttftMs: 412,
    cancelled: false,
    completionTokens: 58,
    promptTokens: 1264,
    promptCachedTokens: 1152,
    cacheCreationTokens: 0,
    totalTokens: 1322,
    tokensPerSecond: 58 / 1.843,
    speechId: 'speech_7a1c2e',
    metadata: { modelProvider: 'openai', modelName: 'gpt-4o-mini' },
  },
  {
    // a request whose retries all failed: no first token, no usage (what llm.ts then reports)
    type: 'llm_metrics',
    label: 'openai.LLM',
    requestId: '',
    timestamp: now,
    durationMs: 6012,
    ttftMs: -1,
    cancelled: false,
    completionTokens: 0,
    promptTokens: 0,
    promptCachedTokens: 0,
    cacheCreationTokens: 0,
    totalTokens: 0,
    tokensPerSecond: 0,
    metadata: { modelProvider: 'openai', modelName: 'gpt-4o-mini' },
  },
  {
    type: 'tts_metrics',
    label: 'cartesia.TTS',
    requestId: 'tts_9d3b0f',
    timestamp: now,
    ttfbMs: 187,
    durationMs: 1420,
    charactersCount: 94,
    audioDurationMs: 6112.5,
    cancelled: false,
    streamed: false,
    speechId: 'speech_7a1c2e',
    metadata: { modelProvider: 'cartesia', modelName: 'sonic-2' },
  },
  {
    type: 'stt_metrics',
    label: 'deepgram.STT',
    requestId: 'stt_51c7aa',
    timestamp: now,
    durationMs: 0,
    audioDurationMs: 4280.4,
    streamed: true,
    metadata: { modelProvider: 'deepgram', modelName: 'nova-3' },
  },
  {
    type: 'eou_metrics',
    timestamp: now,
    endOfUtteranceDelayMs: 612.347,
    transcriptionDelayMs: 238.912,
    onUserTurnCompletedDelayMs: 0.418,
    lastSpeakingTimeMs: now - 612,
    speechId: 'speech_7a1c2e',
    metadata: { modelProvider: 'livekit', modelName: 'multilingual' },
  },
  {
    type: 'vad_metrics',
    label: 'silero.VAD',
    timestamp: now,
    idleTimeMs: 1873.6,
    inferenceDurationTotalMs: 41.2,
    inferenceCount: 32,
  },
  {
    type: 'realtime_model_metrics',
    label: 'openai.realtime.RealtimeModel',
    requestId: 'resp_C2x8Qm',
    timestamp: now,
    durationMs: 2960,
    ttftMs: 534.276,
    cancelled: false,
    inputTokens: 1420,
    outputTokens: 312,
    totalTokens: 1732,
    tokensPerSecond: 312 / 2.96,
    inputTokenDetails: { audioTokens: 620, textTokens: 800, imageTokens: 0, cachedTokens: 768, cachedTokensDetails: undefined },
    outputTokenDetails: { textTokens: 52, audioTokens: 260, imageTokens: 0 },
    metadata: { modelProvider: 'openai', modelName: 'gpt-realtime' },
  },
  {
    type: 'interruption_metrics',
    timestamp: now,
    totalDuration: 86.42,
    predictionDuration: 21.37,
    detectionDelay: 284.91,
    numInterruptions: 2,
    numBackchannels: 1,
    numRequests: 5,
    metadata: { modelProvider: 'livekit', modelName: 'adaptive-interruption' },
  },
];

for (const object of objects) {
  logMetrics(object);
  process.stderr.write(`${JSON.stringify({ version: lk.version, passed: object })}\n`);
}
