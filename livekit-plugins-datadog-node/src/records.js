// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// The fields of the companion records (docs/companion-records.md, schema 1) built from
// @livekit/agents objects. Pure functions: they read LiveKit's objects defensively (fields come and
// go across 1.x releases), convert LiveKit's milliseconds to seconds, and never return a field whose
// value is undefined or null: an absent measurement is an absent key.

const MS = 1000;

/** @typedef {Record<string, unknown>} Fields */

/**
 * Copy of `fields` without its undefined and null values.
 * @param {Fields} fields
 * @returns {Fields}
 */
export function compact(fields) {
  /** @type {Fields} */
  const out = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

/** @param {unknown} value */
const seconds = (value) => (typeof value === 'number' && Number.isFinite(value) ? value / MS : undefined);
/** @param {unknown} value */
const number = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
/** @param {unknown} value */
const string = (value) => (typeof value === 'string' ? value : undefined);
/** Milliseconds to seconds, keeping LiveKit's -1 ("none came") as it is, as Python reports it. */
const secondsOrNone = (value) => (value === -1 ? -1 : seconds(value));
/** @param {unknown} value */
const bool = (value) => (typeof value === 'boolean' ? value : undefined);

/**
 * `model` and `provider` from a metrics object's `metadata`, else from the emitting model object.
 * @param {any} metadata
 * @param {any} [source]
 */
function modelFields(metadata, source) {
  if (metadata && typeof metadata === 'object') {
    return { model: string(metadata.modelName), provider: string(metadata.modelProvider) };
  }
  return namesOf(source);
}

/**
 * `model` and `provider` of a model object (an LLM, TTS or STT), when it names them.
 * @param {any} source
 */
export function namesOf(source) {
  if (!source || typeof source !== 'object') return {};
  let model;
  let provider;
  try {
    model = string(source.model);
  } catch {
    model = undefined;
  }
  try {
    provider = string(source.provider);
  } catch {
    provider = undefined;
  }
  return { model, provider };
}

/**
 * [event, fields] for one LiveKit metrics object, or null for kinds the schema leaves out (VAD).
 * @param {any} m an AgentMetrics object (metrics/base.ts)
 * @returns {[string, Fields] | null}
 */
export function metricsRecord(m) {
  if (!m || typeof m !== 'object') return null;
  const names = modelFields(m.metadata);
  switch (m.type) {
    case 'llm_metrics': {
      const ttft = number(m.ttftMs);
      // Node (unlike Python) reports a request whose every attempt failed: no first token, no
      // tokens (and `cancelled` when the session closed on that failure). It is no request of the
      // schema (`llm_request` = a successful one): its failure is already an `error` record, and its
      // duration is the time spent retrying. The check reads the stock line the same way.
      if ((ttft === undefined || ttft < 0) && !m.promptTokens && !m.completionTokens) return null;
      return [
        'llm_request',
        compact({
          ...names,
          duration: seconds(m.durationMs),
          // LiveKit's -1: no token was generated (every attempt failed)
          ttft: ttft !== undefined && ttft >= 0 ? ttft / MS : undefined,
          prompt_tokens: number(m.promptTokens),
          prompt_cached_tokens: number(m.promptCachedTokens),
          cache_creation_tokens: number(m.cacheCreationTokens),
          completion_tokens: number(m.completionTokens),
          reasoning_tokens: number(m.reasoningTokens),
          total_tokens: number(m.totalTokens),
          tokens_per_second: number(m.tokensPerSecond),
          request_id: string(m.requestId),
          speech_id: string(m.speechId),
          cancelled: bool(m.cancelled),
        }),
      ];
    }
    case 'realtime_model_metrics': {
      const ttft = number(m.ttftMs);
      return [
        'realtime_request',
        compact({
          ...names,
          duration: seconds(m.durationMs),
          ttft: ttft !== undefined && ttft >= 0 ? ttft / MS : undefined,
          input_tokens: number(m.inputTokens),
          input_cached_tokens: number(m.inputTokenDetails?.cachedTokens),
          output_tokens: number(m.outputTokens),
          total_tokens: number(m.totalTokens),
          request_id: string(m.requestId),
          cancelled: bool(m.cancelled),
        }),
      ];
    }
    case 'tts_metrics':
      return [
        'tts_request',
        compact({
          ...names,
          ttfb: secondsOrNone(m.ttfbMs),
          duration: seconds(m.durationMs),
          audio_duration: seconds(m.audioDurationMs),
          characters_count: number(m.charactersCount),
          request_id: string(m.requestId),
          speech_id: string(m.speechId),
          segment_id: string(m.segmentId),
          streamed: bool(m.streamed),
          cancelled: bool(m.cancelled),
        }),
      ];
    case 'stt_metrics':
      return [
        'stt_request',
        compact({
          ...names,
          duration: seconds(m.durationMs),
          audio_duration: seconds(m.audioDurationMs),
          input_tokens: number(m.inputTokens),
          output_tokens: number(m.outputTokens),
          request_id: string(m.requestId),
          streamed: bool(m.streamed),
        }),
      ];
    case 'eou_metrics':
      return [
        'eou',
        compact({
          ...names,
          end_of_utterance_delay: seconds(m.endOfUtteranceDelayMs),
          transcription_delay: seconds(m.transcriptionDelayMs),
          on_user_turn_completed_delay: seconds(m.onUserTurnCompletedDelayMs),
          speech_id: string(m.speechId),
        }),
      ];
    case 'interruption_metrics':
      return [
        'interruption',
        compact({ ...names, num_interruptions: number(m.numInterruptions), num_backchannels: number(m.numBackchannels) }),
      ];
    default:
      return null;
  }
}

/** @param {any} item */
export const isTurnMessage = (item) =>
  item?.type === 'message' && (item.role === 'user' || item.role === 'assistant');

// ChatMessage.metrics (MetricsReport) is already in seconds
const USER_TURN_METRICS = /** @type {const} */ ([
  ['transcription_delay', 'transcriptionDelay'],
  ['end_of_turn_delay', 'endOfTurnDelay'],
  ['on_user_turn_completed_delay', 'onUserTurnCompletedDelay'],
]);
const AGENT_TURN_METRICS = /** @type {const} */ ([
  ['e2e_latency', 'e2eLatency'],
  ['llm_node_ttft', 'llmNodeTtft'],
  ['tts_node_ttfb', 'ttsNodeTtfb'],
  ['playback_latency', 'playbackLatency'],
]);

/**
 * Fields of a `turn` record for a user or assistant ChatMessage.
 * @param {any} item
 * @param {{ includeText: boolean }} options
 */
export function turnRecord(item, { includeText }) {
  const report = item.metrics && typeof item.metrics === 'object' ? item.metrics : {};
  /** @type {Fields} */
  const fields = { role: item.role, item_id: string(item.id), interrupted: Boolean(item.interrupted) };
  for (const [name, key] of item.role === 'user' ? USER_TURN_METRICS : AGENT_TURN_METRICS) {
    fields[name] = number(report[key]);
  }
  if (item.role === 'assistant') {
    for (const prefix of ['llm', 'tts']) {
      const metadata = report[`${prefix}Metadata`];
      fields[`${prefix}_model`] = string(metadata?.modelName);
      fields[`${prefix}_provider`] = string(metadata?.modelProvider);
    }
  }
  if (includeText) {
    let text;
    try {
      text = item.textContent;
    } catch {
      text = undefined;
    }
    fields.text = string(text);
  }
  return compact(fields);
}

// the error event's `type` -> the record's `error_kind` (the keys of LiveKit's SessionReport counts)
export const ERROR_KINDS = {
  llm_error: 'llm',
  stt_error: 'stt',
  tts_error: 'tts',
  realtime_model_error: 'realtime',
  interruption_detection_error: 'interruption',
};

/**
 * Fields of an `error` record: never the exception's message.
 * @param {any} error a model's error event (`{ type, label, error, recoverable }`)
 * @param {any} source the model that failed
 * @param {boolean | undefined} recoverable
 */
export function errorRecord(error, source, recoverable) {
  const type = error?.type;
  const exception = error?.error;
  const className = exception && typeof exception === 'object' ? exception.constructor?.name : undefined;
  return compact({
    error_kind: /** @type {Record<string, string>} */ (ERROR_KINDS)[type] ?? string(type),
    ...namesOf(source),
    recoverable: typeof recoverable === 'boolean' ? recoverable : undefined,
    error_type: string(className),
    label: string(error?.label),
  });
}

/**
 * (user, agent) message counts of the session history.
 * @param {any} session
 * @returns {[number, number]}
 */
export function historyTurns(session) {
  let user = 0;
  let agent = 0;
  for (const item of session.history?.items ?? []) {
    if (isTurnMessage(item)) {
      if (item.role === 'user') user += 1;
      else agent += 1;
    }
  }
  return [user, agent];
}

/**
 * Per-model usage as `session.usage` reports it (LiveKit's own keys), or undefined.
 * @param {any} session
 */
export function usage(session) {
  const entries = session.usage?.modelUsage;
  if (!Array.isArray(entries)) return undefined;
  return entries.map((entry) => compact({ ...entry }));
}

const OUTCOME = /^[a-z0-9_-]{1,32}$/;

/**
 * The declared outcome of a conversation: a short lower-case word, else `other`.
 * @param {unknown} outcome
 */
export function boundedOutcome(outcome) {
  return typeof outcome === 'string' && OUTCOME.test(outcome) ? outcome : 'other';
}

/**
 * The 32-hex trace id of a span that is sampled, else undefined.
 * @param {any} span an OpenTelemetry Span
 */
export function sampledTraceId(span) {
  if (!span || typeof span.spanContext !== 'function') return undefined;
  const context = span.spanContext();
  const traceId = context?.traceId;
  // TraceFlags.SAMPLED = 1; a non-recording (no provider configured) span has the invalid id
  if (typeof traceId !== 'string' || !/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId)) return undefined;
  return (context.traceFlags & 1) === 1 ? traceId : undefined;
}
