// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// Datadog companion for LiveKit Node agents (@livekit/agents):
//
//   import { instrument } from 'livekit-plugins-datadog';
//   const session = new voice.AgentSession({ stt, llm, tts });
//   instrument(session, { service: 'support-bot' });
//
// writes one compact record per model request, turn, error and conversation through the agent's
// own pino logger (the job's logger, with its job fields), which the Datadog LiveKit check reads
// from the worker's log. Schema: docs/companion-records.md (version 1).
import * as lk from '@livekit/agents';
import {
  boundedOutcome,
  compact,
  errorRecord,
  historyTurns,
  isTurnMessage,
  metricsRecord,
  sampledTraceId,
  turnRecord,
  usage,
} from './records.js';
import { VERSION } from './version.js';

export { VERSION as version };
export const SCHEMA_VERSION = 1;
export const LANGUAGE = 'node';
export const LOGGER_NAME = 'livekit.plugins.datadog';

// FallbackAdapter fields holding the instances behind it (llm: `llms`; tts, stt: `*Instances`)
const FALLBACK_INSTANCE_FIELDS = ['llms', 'llmInstances', 'ttsInstances', 'sttInstances', 'stts'];

/** @type {WeakMap<object, SessionInstrumentation>} */
const instrumented = new WeakMap();
/** @type {WeakMap<object, string>} outcomes declared before `instrument()` */
const pendingOutcomes = new WeakMap();

/**
 * @typedef {object} InstrumentOptions
 * @property {string} [service] goes into every record (records are log lines, not metric tags)
 * @property {boolean} [includeText] adds the transcript of each turn to its `turn` record (default false)
 * @property {boolean} [traces] records the OpenTelemetry trace id of LiveKit's `agent_session` span
 *   on the `conversation` record when the job configured tracing with `telemetry.setTracerProvider`
 *   and the trace is sampled (default true; false never reads a span)
 * @property {any} [logger] a pino logger to write through instead of the job's own (`log()`)
 */

/**
 * Write Datadog companion records for `session` through the job's pino logger.
 *
 * Call it once, right after creating the AgentSession (before `start`). A second call for the
 * same session returns the first instrumentation. Failures inside the companion are logged once as
 * a warning and never thrown.
 * @param {any} session a `voice.AgentSession`
 * @param {InstrumentOptions} [options]
 * @returns {SessionInstrumentation}
 */
export function instrument(session, options = {}) {
  const existing = instrumented.get(session);
  if (existing) return existing;
  const instrumentation = new SessionInstrumentation(session, options);
  instrumented.set(session, instrumentation);
  instrumentation.start();
  return instrumentation;
}

/**
 * Declare the outcome of the conversation, carried as `outcome` by its `conversation` record.
 * A short lower-case word: at most 32 characters of [a-z0-9_-], anything else becomes `other`.
 * The last call before the session closes wins.
 * @param {any} session
 * @param {string} outcome
 * @returns {string} the outcome as it will be recorded
 */
export function setOutcome(session, outcome) {
  const bounded = boundedOutcome(outcome);
  const instrumentation = instrumented.get(session);
  if (instrumentation) instrumentation.outcome = bounded;
  else pendingOutcomes.set(session, bounded);
  return bounded;
}

/** The job of the calling code, or undefined outside a job entrypoint. */
function currentJob() {
  try {
    return lk.getJobContext?.(false)?.job;
  } catch {
    return undefined;
  }
}

/**
 * The job's pino logger as a child named `livekit.plugins.datadog`. From @livekit/agents 1.9.0 on,
 * `log()` inside a job process is the job's logger (bound to `jobID` and `room_id`); before, it is
 * the process logger without job fields, so the companion binds `jobId` and `room_id` itself.
 * @param {any} explicit
 */
function jobLogger(explicit) {
  const base = explicit ?? lk.log();
  /** @type {Record<string, unknown>} */
  let bindings = {};
  try {
    bindings = typeof base.bindings === 'function' ? base.bindings() : {};
  } catch {
    bindings = {};
  }
  /** @type {Record<string, unknown>} */
  const extra = { name: LOGGER_NAME };
  const job = currentJob();
  if (job && bindings.jobID === undefined && bindings.jobId === undefined && bindings.job_id === undefined) {
    extra.jobId = job.id;
    if (job.room?.sid && bindings.room_id === undefined) extra.room_id = job.room.sid;
  }
  return base.child(extra);
}

/** The subscriptions and running counts of one instrumented AgentSession. */
export class SessionInstrumentation {
  /**
   * @param {any} session
   * @param {InstrumentOptions} options
   */
  constructor(session, options) {
    this.session = session;
    this.includeText = Boolean(options.includeText);
    this.traces = options.traces !== false;
    /** @type {Record<string, unknown>} */
    this.common = { 'livekit.schema': SCHEMA_VERSION };
    if (typeof options.service === 'string' && options.service) this.common.service = options.service;
    this.explicitLogger = options.logger;
    this.logger = null;
    this.startedAt = Date.now() / 1000;
    this.startedMonotonic = performance.now();
    /** @type {Record<string, number>} */
    this.errors = {};
    /** @type {string | undefined} */
    this.traceId = undefined;
    /** @type {string | undefined} */
    this.outcome = pendingOutcomes.get(session);
    this.closed = false;
    this.warned = false;
    /** @type {Map<string, (ev: any) => void>} */
    this.sessionHandlers = new Map();
    /** @type {Map<object, (ev: any) => void>} */
    this.fallbackHandlers = new Map();
  }

  start() {
    this.guard('start', () => {
      this.logger = jobLogger(this.explicitLogger);
      this.write('session_start', { sdk_version: lk.version, plugin_version: VERSION, language: LANGUAGE });
      /** @type {Record<string, (ev: any) => void>} */
      const handlers = {
        metrics_collected: (ev) => this.onMetrics(ev),
        error: (ev) => this.onError(ev),
        conversation_item_added: (ev) => this.onItem(ev),
        agent_state_changed: () => this.onActivity(),
        speech_created: () => this.onActivity(),
        close: (ev) => this.onClose(ev),
      };
      for (const [event, handler] of Object.entries(handlers)) {
        const guarded = (/** @type {any} */ ev) => this.guard(event, () => handler(ev));
        this.session.on(event, guarded);
        this.sessionHandlers.set(event, guarded);
      }
      this.watchFallbackInstances();
    });
  }

  /** @param {any} ev MetricsCollectedEvent */
  onMetrics(ev) {
    if (this.closed) return;
    this.noteTraceId();
    const record = metricsRecord(ev?.metrics);
    if (record) this.write(record[0], record[1]);
  }

  /** @param {any} ev ErrorEvent: `{ error: <model error event>, source }` */
  onError(ev) {
    if (this.closed) return;
    this.noteTraceId();
    const error = ev?.error;
    this.writeError(errorRecord(error, ev?.source, error?.recoverable));
  }

  /**
   * A failed attempt of an instance behind a FallbackAdapter: LiveKit reports it to the instance
   * only, and the adapter goes on with its next instance, so the attempt is recoverable.
   * @param {any} instance
   * @param {any} error
   */
  onFallbackError(instance, error) {
    if (!this.closed) this.writeError(errorRecord(error, instance, true));
  }

  /** @param {any} ev ConversationItemAddedEvent */
  onItem(ev) {
    if (this.closed) return;
    this.noteTraceId();
    const item = ev?.item;
    if (item?.type === 'agent_handoff') {
      this.watchFallbackInstances();
      return;
    }
    if (isTurnMessage(item)) this.write('turn', turnRecord(item, { includeText: this.includeText }));
  }

  onActivity() {
    if (this.closed) return;
    this.noteTraceId();
    this.watchFallbackInstances();
  }

  /** @param {any} ev CloseEvent */
  onClose(ev) {
    if (this.closed) return;
    this.closed = true; // one conversation record, and nothing after it
    try {
      const [userTurns, agentTurns] = historyTurns(this.session);
      const reason = ev?.reason;
      this.write(
        'conversation',
        compact({
          close_reason: typeof reason === 'string' ? reason : undefined,
          user_turns: userTurns,
          agent_turns: agentTurns,
          duration: (performance.now() - this.startedMonotonic) / 1000,
          started_at: this.startedAt,
          errors: { ...this.errors },
          usage: this.optional('usage', () => usage(this.session)),
          trace_id: this.traceId,
          outcome: this.outcome,
          language: LANGUAGE,
          sdk_version: lk.version,
        }),
      );
    } finally {
      this.detach();
    }
  }

  /** Subscribe to the errors of the instances behind the session's and the agent's FallbackAdapters. */
  watchFallbackInstances() {
    let agent;
    try {
      agent = this.session.currentAgent;
    } catch {
      agent = undefined; // not started yet
    }
    for (const owner of [this.session, agent]) {
      if (!owner) continue;
      for (const name of ['llm', 'tts', 'stt']) {
        let model;
        try {
          model = owner[name];
        } catch {
          model = undefined;
        }
        if (!model || typeof model !== 'object') continue;
        for (const field of FALLBACK_INSTANCE_FIELDS) {
          const instances = model[field];
          if (!Array.isArray(instances)) continue;
          for (const instance of instances) {
            if (this.fallbackHandlers.has(instance) || typeof instance?.on !== 'function') continue;
            const handler = (/** @type {any} */ error) =>
              this.guard('fallback_error', () => this.onFallbackError(instance, error));
            instance.on('error', handler);
            this.fallbackHandlers.set(instance, handler);
          }
        }
      }
    }
  }

  detach() {
    for (const [event, handler] of this.sessionHandlers) this.session.off(event, handler);
    this.sessionHandlers.clear();
    for (const [instance, handler] of this.fallbackHandlers) instance.off('error', handler);
    this.fallbackHandlers.clear();
  }

  /** @param {Record<string, unknown>} fields */
  writeError(fields) {
    const kind = typeof fields.error_kind === 'string' ? fields.error_kind : 'unknown';
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.write('error', fields);
  }

  /**
   * @param {string} event
   * @param {Record<string, unknown>} fields
   */
  write(event, fields) {
    this.logger.info({ 'livekit.event': event, ...this.common, ...fields }, `livekit.datadog ${event}`);
  }

  /** Remember the trace of LiveKit's `agent_session` span, once it is a sampled one. */
  noteTraceId() {
    if (!this.traces || this.traceId !== undefined) return;
    try {
      this.traceId = sampledTraceId(this.session.sessionSpan);
    } catch {
      this.traceId = undefined;
    }
  }

  /**
   * A field of the conversation record that must not cost the record if reading it fails.
   * @param {string} where
   * @param {() => unknown} read
   */
  optional(where, read) {
    try {
      return read();
    } catch (error) {
      this.internalFailure(where, error);
      return undefined;
    }
  }

  /**
   * Run an event handler without ever letting an exception reach the agent.
   * @param {string} where
   * @param {() => void} fn
   */
  guard(where, fn) {
    try {
      fn();
    } catch (error) {
      this.internalFailure(where, error);
    }
  }

  /**
   * @param {string} where
   * @param {unknown} error
   */
  internalFailure(where, error) {
    if (this.warned) return;
    this.warned = true;
    try {
      const logger = this.logger ?? lk.log();
      logger.warn(
        { error_type: /** @type {any} */ (error)?.constructor?.name, stack: /** @type {any} */ (error)?.stack },
        `livekit-plugins-datadog failed in ${where}; some Datadog records of this session may be missing`,
      );
    } catch {
      // logging itself failed; the agent must go on
    }
  }
}

