// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// The scripted providers of the repository's Node agent apps: the local LLM, TTS and streaming STT
// that answer a conversation plan and fail as it says, driven through LiveKit's own LLMStream,
// ChunkedStream and SpeechStream (their retry lines and metrics objects), and what logMetrics puts
// on the line for a metrics object; and the conversation both apps run in a job. Shared by capture_node.mjs (the repository's @livekit/agents
// producer) and livekit-plugins-datadog-node/test/worker/agent.mjs (the same app with the companion).
// @livekit/agents and @livekit/rtc-node are loaded from $LK_NODE_MODULES, as the apps load them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.env.LK_NODE_MODULES; // tools/node/node_modules
export const lk = await import(pathToFileURL(join(modules, '@livekit/agents/dist/index.js')).href);
const { AudioFrame } = await import(pathToFileURL(join(modules, '@livekit/rtc-node/dist/index.js')).href);
const { cli, llm, metrics, stt, tts, voice, ServerOptions } = lk;
const { APIConnectionError, APIStatusError, shortuuid } = lk;

export const CHARS_PER_TOKEN = 4;
export const SPEECH_SECONDS_PER_CHAR = 0.065;
export const TTS_SAMPLE_RATE = 24000;
export const ATTEMPTS_UNTIL_UNRECOVERABLE = 4;

export const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds * 1000)));
export const countTokens = (text) => Math.ceil(text.length / CHARS_PER_TOKEN);
// logMetrics rounds these fields with Math.round(v * 100) / 100 (metrics/utils.ts); recorded
// next to the raw objects so that tests can compare what the line carries, exactly
export const roundTwo = (value) => Math.round(value * 100) / 100;

// A deterministic generator per key: the same plan sleeps the same (scaled) times.
export function draw(key, low, high) {
  let h = 2166136261;
  for (const c of key) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return low + ((h % 10000) / 10000) * (high - low);
}

export function providerError(fault, model) {
  if (fault.kind === 'connection') return new APIConnectionError({});
  const status = Number(fault.kind);
  const message = { 429: `Rate limit reached for ${model}`, 500: 'Internal Server Error', 503: 'Service Unavailable' }[status];
  return new APIStatusError({ message, options: { statusCode: status, requestId: shortuuid('req_'), retryable: true } });
}

export class Faults {
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

export class ScriptedLLM extends llm.LLM {
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

export class ScriptedLLMStream extends llm.LLMStream {
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

export class ScriptedTTS extends tts.TTS {
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

export class ScriptedChunkedStream extends tts.ChunkedStream {
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

export class ScriptedSTT extends stt.STT {
  label = 'capture_node.ScriptedSTT';
  // `faults`: the stream faults by key (ScriptedSpeechStream's `faultKey`); by default the plan's
  // dropped websocket at connect
  constructor(plan, faults = plan.stt_fault ? { stream: plan.stt_fault } : {}) {
    super({ streaming: true, interimResults: false });
    this.plan = plan;
    this.faults = new Faults(faults);
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
  stream({ connOptions } = {}) {
    return new ScriptedSpeechStream(this, connOptions);
  }
}

// Recognizes the utterances the caller says (`hear(turn)`); the audio itself is not simulated.
// `faultKey`: the key of the STT's faults checked when the stream connects.
export class ScriptedSpeechStream extends stt.SpeechStream {
  label = 'capture_node.ScriptedSpeechStream';
  constructor(scripted, connOptions, faultKey = 'stream') {
    super(scripted, undefined, connOptions);
    this.scripted = scripted;
    this.heard = [];
    this.wake = null;
    this.faultKey = faultKey;
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
export function loggedFields(m) {
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

// -- the conversation of a job, as both apps run it --

// The job's plan and LiveKit's retry options for it (scaled as the plan's times).
export function jobPlan(ctx) {
  const plan = JSON.parse(ctx.job.metadata);
  const retries = { maxRetry: 3, retryIntervalMs: Math.round(2000 * plan.time_scale), timeoutMs: 10000 };
  return { plan, retries };
}

// The job's record, with `logMetrics(object, source)` (metrics.logMetrics and the record's entry)
// and `onError(error)` (the record's error entry).
export function jobRecord(ctx, plan) {
  const record = { job_id: ctx.job.id, room: ctx.job.room?.name, room_id: ctx.job.room?.sid, pid: process.pid, conversation: plan.index, scenario: plan.scenario, sdk_version: lk.version, started_at: Date.now(), logged: [], errors: [], close: null };
  const logMetrics = (object, source) => {
    metrics.logMetrics(object);
    record.logged.push({ source, metrics: object, logged: loggedFields(object) });
  };
  const onError = (ev) => record.errors.push({ type: ev.type, recoverable: ev.recoverable, label: ev.label });
  return { record, logMetrics, onError };
}

// The session's metrics and error events into the record; resolves when the session closes.
export function recordSession(session, { record, logMetrics, onError }) {
  session.on(voice.AgentSessionEventTypes.MetricsCollected, (ev) => logMetrics(ev.metrics, 'session'));
  session.on(voice.AgentSessionEventTypes.Error, (ev) => onError(ev.error));
  return new Promise((resolve) =>
    session.on(voice.AgentSessionEventTypes.Close, (ev) => {
      record.close = { reason: ev.reason, error: ev.error?.type ?? null, created_at: ev.createdAt ?? Date.now() };
      resolve();
    }),
  );
}

// Starts the session and plays the plan: the greeting, then each user turn heard by `recognizer`
// (`onHeard(turn)` right after) and answered by the session, each answer spoken sentence by
// sentence through `speech`. Returns how many turns were answered.
export async function converse({ session, plan, record, recognizer, speech, retries, onHeard = () => {} }) {
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
    await sleep((utterance.pause_s + utterance.speech_s) * plan.time_scale);
    recognizer.hear(turn);
    onHeard(turn);
    try {
      await session.generateReply({ userInput: utterance.user }).waitForPlayout();
    } catch {
      break; // the session is closing
    }
    spoken += 1;
    if (!record.close) await say(turn + 1);
  }
  return spoken;
}

// The history counts and the end time (then `extra`'s fields) into the record, written to
// $LK_GENERATOR_JOBS_DIR/<job id>.json; then the job shuts down.
export function finishJob(ctx, session, record, extra = {}) {
  record.user_turns = session.history.items.filter((i) => i.type === 'message' && i.role === 'user').length;
  record.agent_turns = session.history.items.filter((i) => i.type === 'message' && i.role === 'assistant').length;
  record.ended_at = Date.now();
  Object.assign(record, extra);
  mkdirSync(process.env.LK_GENERATOR_JOBS_DIR, { recursive: true });
  writeFileSync(join(process.env.LK_GENERATOR_JOBS_DIR, `${ctx.job.id}.json`), JSON.stringify(record));
  ctx.shutdown('conversation finished');
}

// The worker of the app at `agentFile`, as the session generator configures it.
export function runWorker(agentFile) {
  cli.runApp(
    new ServerOptions({
      agent: agentFile,
      agentName: process.env.LK_GENERATOR_AGENT_NAME ?? '',
      port: Number(process.env.LK_GENERATOR_HEALTH_PORT ?? 8081),
      numIdleProcesses: Number(process.env.LK_GENERATOR_IDLE_PROCESSES ?? 2),
      loadThreshold: Infinity, // take every job the dispatcher offers, however busy the machine
    }),
  );
}
