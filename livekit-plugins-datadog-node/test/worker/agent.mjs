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
import { fileURLToPath, pathToFileURL } from 'node:url';
// the scripted providers and the conversation of capture_node.mjs (loads @livekit/agents from
// $LK_NODE_MODULES)
import {
  lk, converse, finishJob, jobPlan, jobRecord, recordSession, runWorker, sleep,
  ScriptedLLM, ScriptedSpeechStream, ScriptedSTT, ScriptedTTS,
} from '../../../livekit/tests/producers/scripted_node_providers.mjs';

const { defineAgent, stt, voice } = lk;
const { instrument, setOutcome } = await import(pathToFileURL(process.env.LK_COMPANION_MODULE).href);
const STT_GIVE_UP = { kind: 'connection', attempts: 99 };

// The STT of the companion's app: the session's audio recognition opens a stream of its own, which
// gets no audio in a text session (SilentSpeechStream); the app's own streams (`scripted: true`)
// recognize the plan's turns, the first one dropping at connect as the plan says and any later one
// dropping for good (STT_GIVE_UP), so that LiveKit retries and gives up.
class CompanionSTT extends ScriptedSTT {
  constructor(plan) {
    super(plan, plan.stt_fault ? { stream: plan.stt_fault, give_up: STT_GIVE_UP } : {});
    this.streams = 0;
  }
  stream({ connOptions, scripted = false } = {}) {
    if (!scripted) return new SilentSpeechStream(this, connOptions);
    const faultKey = this.streams === 0 ? 'stream' : 'give_up';
    this.streams += 1;
    return new ScriptedSpeechStream(this, connOptions, faultKey);
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

async function runConversation(ctx) {
  const { plan, retries } = jobPlan(ctx);
  const recording = jobRecord(ctx, plan);
  const { record } = recording;

  const speech = new ScriptedTTS(plan);
  const hearing = new CompanionSTT(plan);
  const thinking = new ScriptedLLM(plan);
  const session = new voice.AgentSession({ llm: thinking, tts: speech, stt: hearing, connOptions: { llmConnOptions: retries, ttsConnOptions: retries, sttConnOptions: retries } });
  instrument(session, { service: 'support-bot' });
  const closed = recordSession(session, recording);
  const recognizer = hearing.stream({ connOptions: retries, scripted: true });
  const recognizing = (async () => { try { for await (const _ of recognizer); } catch { /* an error event */ } })();

  const spoken = await converse({ session, plan, record, recognizer, speech, retries });
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
  finishJob(ctx, session, record, {
    failed_attempts: { llm: thinking.faults.failures, tts: speech.faults.failures, stt: hearing.faults.failures },
  });
}

export default defineAgent({ entry: runConversation });

runWorker(fileURLToPath(import.meta.url));
