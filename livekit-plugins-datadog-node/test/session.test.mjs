// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// One real AgentSession in this process (@livekit/agents 1.9.0, a local LLM): the options of
// instrument() (includeText, traces with LiveKit's own tracer provider, an explicit logger),
// setOutcome() and the records' shape.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it, before } from 'node:test';
import { initializeLogger, llm, telemetry, version as sdkVersion, voice } from '@livekit/agents';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { instrument, setOutcome, version } from '../src/index.js';
import { boundedOutcome, metricsRecord } from '../src/records.js';
import { readFileSync } from 'node:fs';

class LocalLLM extends llm.LLM {
  label() {
    return 'test.LocalLLM';
  }
  get model() {
    return 'local-1';
  }
  get provider() {
    return 'test';
  }
  chat({ chatCtx, toolCtx, connOptions }) {
    return new LocalStream(this, { chatCtx, toolCtx, connOptions });
  }
}

class LocalStream extends llm.LLMStream {
  async run() {
    const id = 'chatcmpl-local';
    this.queue.put({ id, delta: { role: 'assistant', content: 'Hello, how can I help?' } });
    this.queue.put({ id, usage: { promptTokens: 12, promptCachedTokens: 0, completionTokens: 6, totalTokens: 18 } });
  }
}

function memoryLogger() {
  const lines = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function conversation(options, during = () => {}) {
  const { logger, lines } = memoryLogger();
  const session = new voice.AgentSession({ llm: new LocalLLM() });
  instrument(session, { service: 'unit', logger, ...options });
  await session.start({ agent: new voice.Agent({ instructions: 'Be brief.' }) });
  await session.generateReply({ userInput: 'Hi there, I need help with my order.' }).waitForPlayout();
  during(session);
  await session.close();
  await new Promise((resolve) => setImmediate(resolve));
  const records = lines.filter((l) => l.msg?.startsWith('livekit.datadog '));
  return { session, records, byEvent: (event) => records.filter((r) => r['livekit.event'] === event) };
}

describe('a session in this process', () => {
  before(() => initializeLogger({ pretty: false, level: 'error' }));

  it('keeps its package version in step with package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(version, pkg.version);
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'no runtime dependency');
    assert.ok(pkg.peerDependencies['@livekit/agents']);
  });

  it('writes the records of the schema, with no text and no trace id unless asked', async () => {
    const { records, byEvent } = await conversation({});
    assert.deepEqual(
      records.map((r) => r['livekit.event']).sort(),
      ['conversation', 'llm_request', 'session_start', 'turn', 'turn'],
    );
    assert.equal(records[0]['livekit.event'], 'session_start');
    assert.deepEqual(
      { sdk: records[0].sdk_version, plugin: records[0].plugin_version, language: records[0].language },
      { sdk: sdkVersion, plugin: version, language: 'node' },
    );
    for (const r of records) {
      assert.equal(r['livekit.schema'], 1);
      assert.equal(r.service, 'unit');
      assert.equal(r.name, 'livekit.plugins.datadog');
      assert.equal(r.msg, `livekit.datadog ${r['livekit.event']}`);
      assert.ok(!Object.values(r).includes(null), 'absent values are omitted');
    }
    const [request] = byEvent('llm_request');
    assert.deepEqual(
      [request.model, request.provider, request.prompt_tokens, request.completion_tokens, request.total_tokens],
      ['local-1', 'test', 12, 6, 18],
    );
    assert.ok(request.duration > 0 && request.duration < 10, 'seconds');
    assert.ok(byEvent('turn').every((t) => !('text' in t)));
    const [end] = byEvent('conversation');
    assert.deepEqual(
      [end.close_reason, end.user_turns, end.agent_turns, end.trace_id, end.outcome],
      ['user_initiated', 1, 1, undefined, undefined],
    );
    assert.deepEqual(end.usage, [{ type: 'llm_usage', provider: 'test', model: 'local-1', inputTokens: 12, outputTokens: 6 }]);
  });

  it('adds the transcript with includeText, and the declared outcome, bounded', async () => {
    const { byEvent } = await conversation({ includeText: true }, (session) => {
      assert.equal(setOutcome(session, 'Resolved!'), 'other');
      assert.equal(setOutcome(session, 'x'.repeat(33)), 'other');
      assert.equal(setOutcome(session, 'escalated_to-human2'), 'escalated_to-human2');
    });
    assert.deepEqual(
      byEvent('turn').map((t) => [t.role, t.text]),
      [['user', 'Hi there, I need help with my order.'], ['assistant', 'Hello, how can I help?']],
    );
    assert.equal(byEvent('conversation')[0].outcome, 'escalated_to-human2');
  });

  it('bounds outcomes to 32 characters of [a-z0-9_-]', () => {
    for (const [given, kept] of [['resolved', 'resolved'], ['a'.repeat(32), 'a'.repeat(32)], ['', 'other'], ['no way', 'other'], [42, 'other'], [undefined, 'other'], ['Résolu', 'other']]) {
      assert.equal(boundedOutcome(given), kept);
    }
  });

  it("records the trace id of LiveKit's agent_session span once a tracer provider is set", async () => {
    const exporter = new InMemorySpanExporter();
    telemetry.setTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const traced = await conversation({});
    const untraced = await conversation({ traces: false });
    const sessions = exporter.getFinishedSpans().filter((s) => s.name === 'agent_session');
    assert.equal(sessions.length, 2);
    const [end] = traced.byEvent('conversation');
    assert.match(end.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(end.trace_id, sessions[0].spanContext().traceId);
    assert.equal(untraced.byEvent('conversation')[0].trace_id, undefined);
  });

  it('converts metrics objects of every kind to seconds, and skips what the schema leaves out', () => {
    const [event, fields] = metricsRecord({
      type: 'eou_metrics', timestamp: 0, endOfUtteranceDelayMs: 520, transcriptionDelayMs: 130, onUserTurnCompletedDelayMs: 2, lastSpeakingTimeMs: 0, speechId: 'speech_1',
    });
    assert.equal(event, 'eou');
    assert.deepEqual(fields, { end_of_utterance_delay: 0.52, transcription_delay: 0.13, on_user_turn_completed_delay: 0.002, speech_id: 'speech_1' });
    assert.deepEqual(
      metricsRecord({ type: 'realtime_model_metrics', durationMs: 2000, ttftMs: -1, inputTokens: 900, outputTokens: 40, totalTokens: 940, inputTokenDetails: { cachedTokens: 768 }, metadata: { modelName: 'gpt-realtime', modelProvider: 'openai' } }),
      ['realtime_request', { model: 'gpt-realtime', provider: 'openai', duration: 2, input_tokens: 900, input_cached_tokens: 768, output_tokens: 40, total_tokens: 940 }],
    );
    assert.deepEqual(metricsRecord({ type: 'interruption_metrics', numInterruptions: 2, numBackchannels: 1 }), ['interruption', { num_interruptions: 2, num_backchannels: 1 }]);
    assert.equal(metricsRecord({ type: 'vad_metrics', idleTimeMs: 4 }), null);
  });
});
