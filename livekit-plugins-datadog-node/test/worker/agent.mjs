// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// The repository's Node agent app (livekit/tests/producers/capture_node.mjs) WITH the companion:
// the same plans, scripted models and LiveKit retries, run as a REAL @livekit/agents worker
//   node agent.mjs start --url ws://... --api-key ... --api-secret ... --log-level info
// started by `test/capture.py` through the repository's session generator. What differs from
// capture_node.mjs, so that every request, error and turn goes through the session as in production:
// - `instrument(session, { service })` right after the AgentSession is created (the companion is
//   imported from $LK_COMPANION_MODULE: the package source, or the packed package as installed);
// - the TTS and the STT are the session's own (`new AgentSession({ llm, tts, stt })`): their
//   metrics and error events reach the session through LiveKit's AgentActivity, as in production.
//   The app still drives them itself (a text session has no audio); the STT stream that the
//   session's audio recognition opens on its own gets no audio and stays silent;
// - metrics.logMetrics() for the session's metrics_collected events only (LiveKit's documented
//   pattern), so the stock lines of every request are in the log next to the companion's records;
//   no constructed metrics objects (EOU, VAD, RealtimeModel, Interruption): they never reach a
//   session, so neither the companion nor LiveKit's totals would have them;
// - in the `stt_reconnect` scenario the STT drops for good after the last turn: LiveKit retries and
//   gives up (an unrecoverable `stt_error`), which closes the session with reason `error`;
// - `setOutcome(session, ...)` declares `resolved` after a conversation of 3 or more answers.
// At the end of the job it writes LiveKit's totals (metrics objects, error and close events,
// history counts) to $LK_GENERATOR_JOBS_DIR/<job id>.json in the format of capture_node.mjs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const modules = process.env.LK_NODE_MODULES; // tools/node/node_modules
const lk = await import(pathToFileURL(join(modules, '@livekit/agents/dist/index.js')).href);
const { AudioFrame } = await import(pathToFileURL(join(modules, '@livekit/rtc-node/dist/index.js')).href);
const { cli, defineAgent, llm, metrics, stt, tts, voice, ServerOptions } = lk;
const { APIConnectionError, APIStatusError, shortuuid } = lk;
const { instrument, setOutcome } = await import(pathToFileURL(process.env.LK_COMPANION_MODULE).href);
const STT_GIVE_UP = { kind: 'connection', attempts: 99 };

const CHARS_PER_TOKEN = 4;
const SPEECH_SECONDS_PER_CHAR = 0.065;
const TTS_SAMPLE_RATE = 24000;
const ATTEMPTS_UNTIL_UNRECOVERABLE = 4;

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds * 1000)));
const countTokens = (text) => Math.ceil(text.length / CHARS_PER_TOKEN);
// logMetrics rounds these fields with Math.round(v * 100) / 100 (metrics/utils.ts); recorded
// next to the raw objects so that tests can compare what the line carries, exactly
const roundTwo = (value) => Math.round(value * 100) / 100;

// A deterministic generator per key: the same plan sleeps the same (scaled) times.
function draw(key, low, high) {
  let h = 2166136261;
  for (const c of key) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return low + ((h % 10000) / 10000) * (high - low);
}

function providerError(fault, model) {
  if (fault.kind === 'connection') return new APIConnectionError({});
  const status = Number(fault.kind);
  const message = { 429: `Rate limit reached for ${model}`, 500: 'Internal Server Error', 503: 'Service Unavailable' }[status];
  return new APIStatusError({ message, options: { statusCode: status, requestId: shortuuid('req_'), retryable: true } });
}

class Faults {
  constructor(faults) {
    this.faults = faults;
    this.attempts = new Map();
    this.failures = 0; // every attempt that threw, retried or not: what the provider saw
  }
  check(key, model) {
    const attempt = this.attempts.get(key) ?? 0;
    this.attempts.set(key, attempt + 1);
    const fault = this.faults[key];
    if (fault && attempt < fault.attempts) {
      this.failures += 1;
      throw providerError(fault, model);
    }
  }
}

class ScriptedLLM extends llm.LLM {
  constructor(plan) {
    super();
    this.plan = plan;
    this.faults = new Faults(plan.llm_faults);
    this.previousPrompt = 0;
  }
  label() {
    return 'capture_node.ScriptedLLM';
  }
  get model() {
    return this.plan.llm.model;
  }
  get provider() {
    return this.plan.llm.provider;
  }
  chat({ chatCtx, toolCtx, connOptions }) {
    return new ScriptedLLMStream(this, { chatCtx, toolCtx, connOptions });
  }
}

class ScriptedLLMStream extends llm.LLMStream {
  constructor(scripted, options) {
    super(scripted, options);
    this.scripted = scripted;
  }
  async run() {
    const { plan, faults } = this.scripted;
    const messages = this.chatCtx.items.filter((item) => item.type === 'message' && item.textContent);
    const turn = messages.filter((m) => m.role === 'user').length;
    const attempt = faults.attempts.get(String(turn)) ?? 0;
    const ttft = draw(`${plan.seed}/llm/${turn}/${attempt}`, ...plan.llm.ttft) * plan.time_scale;
    try {
      faults.check(String(turn), this.scripted.model);
    } catch (error) {
      await sleep(ttft / 2);
      throw error;
    }
    const reply = plan.replies[Math.min(turn, plan.replies.length - 1)];
    const prompt = messages.reduce((sum, m) => sum + countTokens(m.textContent) + 4, 3);
    const cached = plan.llm.cache === 'prefix' && this.scripted.previousPrompt >= 1024
      ? Math.floor(Math.min(this.scripted.previousPrompt, prompt) / 128) * 128
      : 0;
    this.scripted.previousPrompt = prompt;
    const id = shortuuid('chatcmpl-');
    await sleep(ttft);
    const words = reply.split(' ');
    for (const [index, word] of words.entries()) {
      const content = index === words.length - 1 ? word : `${word} `;
      this.queue.put({ id, delta: { role: 'assistant', content } });
      await sleep(plan.time_scale / plan.llm.words_per_second);
    }
    const completion = countTokens(reply);
    this.queue.put({
      id,
      usage: { promptTokens: prompt, promptCachedTokens: cached, cacheCreationTokens: 0, completionTokens: completion, totalTokens: prompt + completion },
    });
  }
}

class ScriptedTTS extends tts.TTS {
  label = 'capture_node.ScriptedTTS';
  constructor(plan) {
    super(TTS_SAMPLE_RATE, 1, { streaming: false });
    this.plan = plan;
    this.faults = new Faults(plan.tts_faults);
  }
  get model() {
    return this.plan.tts.model;
  }
  get provider() {
    return this.plan.tts.provider;
  }
  synthesize(text, connOptions) {
    return new ScriptedChunkedStream(text, this, connOptions);
  }
  stream() {
    throw new Error('the scripted TTS does not stream');
  }
}

class ScriptedChunkedStream extends tts.ChunkedStream {
  label = 'capture_node.ScriptedChunkedStream';
  constructor(text, scripted, connOptions) {
    super(text, scripted, connOptions);
    this.scripted = scripted;
  }
  async run() {
    const { plan, faults } = this.scripted;
    const text = this.inputText;
    const key = Object.keys(plan.tts_faults).find((prefix) => text.startsWith(prefix)) ?? text;
    const ttfb = draw(`${plan.seed}/tts/${text}/${faults.attempts.get(key) ?? 0}`, ...plan.tts.ttfb) * plan.time_scale;
    try {
      faults.check(key, this.scripted.model);
    } catch (error) {
      await sleep(ttfb / 2);
      throw error;
    }
    await sleep(ttfb);
    const requestId = shortuuid();
    const samples = Math.round(text.length * SPEECH_SECONDS_PER_CHAR * TTS_SAMPLE_RATE);
    const chunk = TTS_SAMPLE_RATE / 10;
    for (let start = 0; start < samples; start += chunk) {
      const length = Math.min(chunk, samples - start);
      const frame = new AudioFrame(new Int16Array(length), TTS_SAMPLE_RATE, 1, length);
      this.queue.put({ requestId, segmentId: requestId, frame, final: start + chunk >= samples });
    }
    this.queue.close();
  }
}

class ScriptedSTT extends stt.STT {
  label = 'capture_node.ScriptedSTT';
  constructor(plan) {
    super({ streaming: true, interimResults: false });
    this.plan = plan;
    this.faults = new Faults(plan.stt_fault ? { stream: plan.stt_fault, give_up: STT_GIVE_UP } : {});
    this.streams = 0;
  }
  get model() {
    return this.plan.stt.model;
  }
  get provider() {
    return this.plan.stt.provider;
  }
  async _recognize() {
    throw new Error('the scripted STT only streams');
  }
  stream({ connOptions, scripted = false } = {}) {
    // the session's audio recognition opens a stream of its own: it gets no audio in a text session
    return scripted ? new ScriptedSpeechStream(this, connOptions) : new SilentSpeechStream(this, connOptions);
  }
}

class SilentSpeechStream extends stt.SpeechStream {
  label = 'agent.SilentSpeechStream';
  constructor(scripted, connOptions) {
    super(scripted, undefined, connOptions);
  }
  async run() {
    while (!this.closed) await sleep(0.1);
  }
}

// Recognizes the utterances the caller says (`hear(turn)`); the audio itself is not simulated.
class ScriptedSpeechStream extends stt.SpeechStream {
  label = 'capture_node.ScriptedSpeechStream';
  constructor(scripted, connOptions) {
    super(scripted, undefined, connOptions);
    this.scripted = scripted;
    this.heard = [];
    this.wake = null;
    this.faultKey = scripted.streams === 0 ? 'stream' : 'give_up';
    scripted.streams += 1;
  }
  hear(turn) {
    this.heard.push(turn);
    this.wake?.();
  }
  async run() {
    this.scripted.faults.check(this.faultKey, this.scripted.model); // a dropped websocket at connect
    for (;;) {
      while (this.heard.length === 0) {
        if (this.closed) return;
        await new Promise((resolve) => (this.wake = resolve));
      }
      const turn = this.heard.shift();
      if (turn === null) return;
      const spoken = this.scripted.plan.turns[turn];
      const alternatives = [{ language: 'en', text: spoken.user, startTime: 0, endTime: spoken.speech_s, confidence: 0.97 }];
      this.queue.put({ type: stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives });
      this.queue.put({ type: stt.SpeechEventType.END_OF_SPEECH, speechEndTime: Date.now() });
      this.queue.put({
        type: stt.SpeechEventType.RECOGNITION_USAGE,
        requestId: shortuuid(),
        recognitionUsage: { audioDuration: spoken.speech_s + 0.3 },
      });
    }
  }
}

// What logMetrics puts on the line for an object (rounded as metrics/utils.ts rounds).
function loggedFields(m) {
  switch (m.type) {
    case 'llm_metrics':
      return { ttftMs: roundTwo(m.ttftMs), inputTokens: m.promptTokens, promptCachedTokens: m.promptCachedTokens, cacheCreationTokens: m.cacheCreationTokens ?? 0, outputTokens: m.completionTokens, tokensPerSecond: roundTwo(m.tokensPerSecond) };
    case 'tts_metrics':
      return { ttfbMs: roundTwo(m.ttfbMs), audioDurationMs: Math.round(m.audioDurationMs) };
    case 'stt_metrics':
      return { audioDurationMs: Math.round(m.audioDurationMs) };
    case 'eou_metrics':
      return { endOfUtteranceDelayMs: roundTwo(m.endOfUtteranceDelayMs), transcriptionDelayMs: roundTwo(m.transcriptionDelayMs), onUserTurnCompletedDelayMs: roundTwo(m.onUserTurnCompletedDelayMs) };
    case 'vad_metrics':
      return { idleTimeMs: Math.round(m.idleTimeMs), inferenceDurationTotalMs: Math.round(m.inferenceDurationTotalMs), inferenceCount: m.inferenceCount };
    case 'realtime_model_metrics':
      return { ttftMs: roundTwo(m.ttftMs), input_tokens: m.inputTokens, cached_input_tokens: m.inputTokenDetails.cachedTokens, output_tokens: m.outputTokens, total_tokens: m.totalTokens, tokens_per_second: roundTwo(m.tokensPerSecond) };
    case 'interruption_metrics':
      return { totalDurationMs: roundTwo(m.totalDuration), predictionDurationMs: roundTwo(m.predictionDuration), detectionDelayMs: roundTwo(m.detectionDelay), numInterruptions: m.numInterruptions, numBackchannels: m.numBackchannels, numRequests: m.numRequests };
    default:
      return {};
  }
}

async function runConversation(ctx) {
  const plan = JSON.parse(ctx.job.metadata);
  const scale = plan.time_scale;
  const retries = { maxRetry: 3, retryIntervalMs: Math.round(2000 * scale), timeoutMs: 10000 };
  const record = { job_id: ctx.job.id, room: ctx.job.room?.name, room_id: ctx.job.room?.sid, pid: process.pid, conversation: plan.index, scenario: plan.scenario, sdk_version: lk.version, started_at: Date.now(), logged: [], errors: [], close: null };
  const logMetrics = (object, source) => {
    metrics.logMetrics(object);
    record.logged.push({ source, metrics: object, logged: loggedFields(object) });
  };
  const onError = (ev) => record.errors.push({ type: ev.type, recoverable: ev.recoverable, label: ev.label });

  const speech = new ScriptedTTS(plan);
  const hearing = new ScriptedSTT(plan);
  const thinking = new ScriptedLLM(plan);
  const session = new voice.AgentSession({ llm: thinking, tts: speech, stt: hearing, connOptions: { llmConnOptions: retries, ttsConnOptions: retries, sttConnOptions: retries } });
  instrument(session, { service: 'support-bot' });
  session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => logMetrics(ev.metrics, 'session'));
  session.on(voice.AgentSessionEventTypes.Error, (ev) => onError(ev.error));
  const closed = new Promise((resolve) =>
    session.on(voice.AgentSessionEventTypes.Close, (ev) => {
      record.close = { reason: ev.reason, error: ev.error?.type ?? null, created_at: ev.createdAt ?? Date.now() };
      resolve();
    }),
  );
  const recognizer = hearing.stream({ connOptions: retries, scripted: true });
  const recognizing = (async () => { try { for await (const _ of recognizer); } catch { /* an error event */ } })();

  await session.start({ agent: new voice.Agent({ instructions: plan.instructions }) });
  const say = async (turn) => {
    for (const sentence of plan.replies[turn].match(/[^.!?]+[.!?]+/g) ?? [plan.replies[turn]]) {
      try {
        for await (const _ of speech.synthesize(sentence.trim(), retries));
      } catch {
        return; // unrecoverable: already an error event
      }
    }
  };
  await session.generateReply().waitForPlayout();
  await say(0);
  let spoken = 0;
  for (const [turn, utterance] of plan.turns.entries()) {
    if (record.close) break;
    await sleep((utterance.pause_s + utterance.speech_s) * scale);
    recognizer.hear(turn);
    try {
      await session.generateReply({ userInput: utterance.user }).waitForPlayout();
    } catch {
      break; // the session is closing
    }
    spoken += 1;
    if (!record.close) await say(turn + 1);
  }
  if (spoken >= 3) setOutcome(session, 'resolved');
  recognizer.hear(null);
  await recognizing;
  if (plan.stt_fault && !record.close) {
    // the transcriber drops for good: LiveKit retries, gives up and closes the session
    const lost = hearing.stream({ connOptions: retries, scripted: true });
    try { for await (const _ of lost); } catch { /* the unrecoverable stt_error */ }
    await Promise.race([closed, sleep(5)]);
  }
  if (!record.close) await session.close();
  await closed;
  record.user_turns = session.history.items.filter((i) => i.type === 'message' && i.role === 'user').length;
  record.agent_turns = session.history.items.filter((i) => i.type === 'message' && i.role === 'assistant').length;
  record.ended_at = Date.now();
  record.failed_attempts = { llm: thinking.faults.failures, tts: speech.faults.failures, stt: hearing.faults.failures };
  mkdirSync(process.env.LK_GENERATOR_JOBS_DIR, { recursive: true });
  writeFileSync(join(process.env.LK_GENERATOR_JOBS_DIR, `${ctx.job.id}.json`), JSON.stringify(record));
  ctx.shutdown('conversation finished');
}

export default defineAgent({ entry: runConversation });

cli.runApp(
  new ServerOptions({
    agent: fileURLToPath(import.meta.url),
    agentName: process.env.LK_GENERATOR_AGENT_NAME ?? '',
    port: Number(process.env.LK_GENERATOR_HEALTH_PORT ?? 8081),
    numIdleProcesses: Number(process.env.LK_GENERATOR_IDLE_PROCESSES ?? 2),
    loadThreshold: Infinity, // take every job the dispatcher offers, however busy the machine
  }),
);
