// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// The Node agent app run as a REAL @livekit/agents worker, as production runs it:
//   node capture_node.mjs start --url ws://... --api-key ... --api-secret ... --log-level info
// (pino JSON on stdout; job processes log through the job runner's logger, bound to pid, jobID and
// room_id). The session generator starts it against its stand-in for the server's dispatch
// (`session_generator.py --worker node`); `capture_all.py` writes the committed Node sample.
//
// Each job gets its conversation plan in the job metadata and runs, in its own job process:
// - a real text AgentSession whose local LLM answers the plan's user turns and fails as the plan
//   says (LiveKit's own retry, error, "AgentSession is closing..." and "AgentSession closed"
//   lines), with metrics.logMetrics() in a metrics_collected handler;
// - a local TTS and a local streaming STT driven through LiveKit's ChunkedStream / SpeechStream
//   (their own retry lines and TTS/STT metrics objects), since a text session has no audio;
// - metrics objects that no offline session can produce (EOU, VAD, RealtimeModel, Interruption),
//   built with the field names of @livekit/agents' metrics types and logged by logMetrics().
// At the end of the job it writes every metrics object it passed to logMetrics, the error and
// close events and the history counts to $LK_GENERATOR_JOBS_DIR/<job id>.json.
import { fileURLToPath } from 'node:url';
import {
  lk, converse, countTokens, draw, finishJob, jobPlan, jobRecord, recordSession, runWorker,
  ScriptedLLM, ScriptedSTT, ScriptedTTS,
} from './scripted_node_providers.mjs'; // loads @livekit/agents from $LK_NODE_MODULES

const { defineAgent, voice } = lk;
const { shortuuid } = lk;

// Objects an offline session cannot produce, with the field names of metrics/base.ts.
function eouMetrics(plan, turn) {
  const key = `${plan.seed}/eou/${turn}`;
  return {
    type: 'eou_metrics',
    timestamp: Date.now(),
    endOfUtteranceDelayMs: draw(`${key}/eou`, 350, 900),
    transcriptionDelayMs: draw(`${key}/stt`, ...plan.stt.final_delay.map((s) => s * 1000)),
    onUserTurnCompletedDelayMs: draw(`${key}/cb`, 0.02, 0.4),
    lastSpeakingTimeMs: Date.now() - 600,
    metadata: { modelProvider: 'livekit', modelName: 'multilingual' },
  };
}

function vadMetrics(plan, index) {
  return {
    type: 'vad_metrics',
    label: 'livekit.plugins.silero.VAD',
    timestamp: Date.now(),
    idleTimeMs: draw(`${plan.seed}/vad/${index}/idle`, 0, 4000),
    inferenceDurationTotalMs: draw(`${plan.seed}/vad/${index}/inf`, 20, 60),
    inferenceCount: 32,
  };
}

function realtimeMetrics(plan, turn) {
  const input = 900 + 60 * turn;
  const cached = turn > 0 ? 768 : 0;
  const output = countTokens(plan.replies[Math.min(turn, plan.replies.length - 1)]) * 6;
  const durationMs = draw(`${plan.seed}/rt/${turn}/d`, 1500, 4000);
  return {
    type: 'realtime_model_metrics',
    label: 'livekit.plugins.openai.realtime.RealtimeModel',
    requestId: shortuuid('resp_'),
    timestamp: Date.now(),
    durationMs,
    ttftMs: draw(`${plan.seed}/rt/${turn}/ttft`, 250, 700),
    cancelled: false,
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    tokensPerSecond: output / (durationMs / 1000),
    inputTokenDetails: { audioTokens: input - 700, textTokens: 700, imageTokens: 0, cachedTokens: cached },
    outputTokenDetails: { textTokens: Math.round(output / 6), audioTokens: output - Math.round(output / 6), imageTokens: 0 },
    metadata: { modelProvider: 'openai', modelName: 'gpt-realtime' },
  };
}

function interruptionMetrics(plan, count) {
  return {
    type: 'interruption_metrics',
    timestamp: Date.now(),
    totalDuration: draw(`${plan.seed}/int/total`, 40, 120),
    predictionDuration: draw(`${plan.seed}/int/pred`, 10, 30),
    detectionDelay: draw(`${plan.seed}/int/delay`, 150, 400),
    numInterruptions: count,
    numBackchannels: 1,
    numRequests: count + 2,
    metadata: { modelProvider: 'livekit', modelName: 'adaptive-interruption' },
  };
}

async function runConversation(ctx) {
  const { plan, retries } = jobPlan(ctx);
  const recording = jobRecord(ctx, plan);
  const { record, logMetrics, onError } = recording;

  const session = new voice.AgentSession({ llm: new ScriptedLLM(plan), connOptions: { llmConnOptions: retries, ttsConnOptions: retries, sttConnOptions: retries } });
  const closed = recordSession(session, recording);
  const speech = new ScriptedTTS(plan);
  speech.on('metrics_collected', (m) => logMetrics(m, 'tts'));
  speech.on('error', onError);
  const hearing = new ScriptedSTT(plan);
  hearing.on('metrics_collected', (m) => logMetrics(m, 'stt'));
  hearing.on('error', onError);
  const recognizer = hearing.stream({ connOptions: retries });
  (async () => { for await (const _ of recognizer); })();

  // the short conversations of the Node sample stand for a realtime-model agent: RealtimeModel
  // metrics lines and no EOU lines (with server-side turn detection there is no EOU)
  const realtime = plan.scenario === 'short';
  const onHeard = (turn) => {
    logMetrics(vadMetrics(plan, turn), 'constructed');
    if (realtime) {
      logMetrics(realtimeMetrics(plan, turn + 1), 'constructed');
    } else {
      logMetrics(eouMetrics(plan, turn), 'constructed');
    }
  };
  const spoken = await converse({ session, plan, record, recognizer, speech, retries, onHeard });
  if (spoken >= 3) logMetrics(interruptionMetrics(plan, Math.floor(spoken / 3)), 'constructed');
  recognizer.hear(null);
  if (!record.close) await session.close();
  await closed;
  finishJob(ctx, session, record);
}

export default defineAgent({ entry: runConversation });

runWorker(fileURLToPath(import.meta.url));
