// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
import type { voice } from '@livekit/agents';

export declare const version: string;
export declare const SCHEMA_VERSION: 1;
export declare const LANGUAGE: 'node';
export declare const LOGGER_NAME: 'livekit.plugins.datadog';

export interface InstrumentOptions {
  /** Goes into every record (records are log lines, not metric tags). */
  service?: string;
  /** Adds the transcript of each turn to its `turn` record. Default false. */
  includeText?: boolean;
  /** Records the trace id of LiveKit's `agent_session` span when tracing is configured. Default true. */
  traces?: boolean;
  /** A pino logger to write through instead of the job's own (`log()` of @livekit/agents). */
  logger?: unknown;
}

export declare class SessionInstrumentation {
  readonly session: voice.AgentSession;
  readonly traceId: string | undefined;
  outcome: string | undefined;
}

/** Write Datadog companion records for `session`; call it right after creating the session. */
export declare function instrument(session: voice.AgentSession, options?: InstrumentOptions): SessionInstrumentation;

/** Declare the conversation's outcome: at most 32 characters of [a-z0-9_-], else `other`. */
export declare function setOutcome(session: voice.AgentSession, outcome: string): string;
