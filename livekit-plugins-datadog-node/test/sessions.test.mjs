// (C) Datadog, Inc. 2026-present
// All rights reserved
// Licensed under a 3-clause BSD style license (see LICENSE)
//
// Real @livekit/agents workers (the pinned 1.9.0 and the oldest supported release, 1.6.4) run ten
// real sessions each with the companion; every record is compared with what LiveKit itself
// reported inside the job: its metrics objects, error and close events and `session.history`
// (test/capture.py, LiveKit's totals in the format of livekit/tests/producers/node_totals.py).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { capture, isRecord, jobOf, missing, recordsByJob, sum } from './helpers.mjs';

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const sorted = (values) => [...values].sort((a, b) => a - b);

function assertSeconds(actual, expectedMs, what) {
  const expected = sorted(expectedMs.map((ms) => (ms === -1 ? -1 : ms / 1000))); // -1: none came
  const got = sorted(actual);
  assert.equal(got.length, expected.length, `${what}: count`);
  got.forEach((value, i) => assert.ok(close(value, expected[i]), `${what}: ${value} != ${expected[i]}`));
}

for (const release of ['1.9.0', '1.6.4']) {
  const skip = process.env.LK_COMPANION_REQUIRE_ALL ? false : missing(release);
  describe(`@livekit/agents ${release}: real sessions with the companion`, { skip }, () => {
    let out;
    let lines;
    let totals;
    let byJob;
    before(() => {
      const why = missing(release);
      if (why) throw new Error(why);
      out = mkdtempSync(join(tmpdir(), `lk-companion-${release}-`));
      ({ lines, totals } = capture(release, out));
      byJob = recordsByJob(lines);
    });
    after(() => out && rmSync(out, { recursive: true, force: true }));

    it('writes one session_start, from the release, before any metrics line of its job', () => {
      assert.equal(totals.sdk_version, release);
      assert.deepEqual([...byJob.keys()].sort(), Object.keys(totals.jobs).sort());
      for (const [jobId, records] of byJob) {
        const job = totals.jobs[jobId];
        assert.equal(records[0].msg, 'livekit.datadog session_start');
        assert.equal(records.filter((r) => r['livekit.event'] === 'session_start').length, 1);
        assert.deepEqual(
          { sdk: records[0].sdk_version, language: records[0].language, service: records[0].service, schema: records[0]['livekit.schema'], name: records[0].name },
          { sdk: release, language: 'node', service: 'support-bot', schema: 1, name: 'livekit.plugins.datadog' },
        );
        // the job's own lines come from its process (before 1.9.0 they carry no job id at all)
        const jobLines = lines.filter((l) => l.pid === job.pid && l.hostname && l.msg !== 'received job request');
        const start = jobLines.findIndex((l) => l.msg === 'livekit.datadog session_start');
        const firstMetrics = jobLines.findIndex((l) => / metrics$/.test(l.msg ?? '') || (isRecord(l) && l.msg.endsWith('_request')));
        assert.ok(start >= 0 && start < firstMetrics, `${jobId}: session_start at ${start}, first metrics at ${firstMetrics}`);
      }
    });

    it('puts the job id on every record, on releases whose job logger has none too', () => {
      for (const line of lines.filter(isRecord)) {
        assert.ok(totals.jobs[jobOf(line)], `record without its job id: ${JSON.stringify(line)}`);
      }
      if (release === '1.6.4') {
        // LiveKit's own lines of the job carry no job id on this release: only the companion's do
        const stockJobLines = lines.filter((l) => !isRecord(l) && l.msg === 'LLM metrics');
        assert.ok(stockJobLines.length > 0 && stockJobLines.every((l) => jobOf(l) === undefined));
        assert.ok(lines.filter(isRecord).every((l) => l.jobId && l.room_id));
      }
    });

    it('writes one llm_request per LLM metrics object: tokens, durations, ttft', () => {
      for (const [jobId, records] of byJob) {
        const job = totals.jobs[jobId];
        const all = job.logged_metrics.map((e) => e.metrics).filter((m) => m.type === 'llm_metrics');
        // Node also reports a request that got no response after its retries: not a request record
        const objects = all.filter((m) => m.ttftMs >= 0 || m.promptTokens || m.completionTokens);
        assert.equal(all.length - objects.length, job.errors.llm_error?.unrecoverable ?? 0, jobId);
        const requests = records.filter((r) => r['livekit.event'] === 'llm_request');
        assert.equal(requests.length, objects.length, jobId);
        assert.equal(sum(requests.map((r) => r.prompt_tokens)), job.tokens.prompt);
        assert.equal(sum(requests.map((r) => r.completion_tokens)), job.tokens.completion);
        assert.equal(sum(requests.map((r) => r.prompt_cached_tokens)), job.tokens.cached);
        assertSeconds(requests.map((r) => r.duration), objects.map((m) => m.durationMs), `${jobId} llm duration`);
        assertSeconds(requests.filter((r) => 'ttft' in r).map((r) => r.ttft), objects.filter((m) => m.ttftMs >= 0).map((m) => m.ttftMs), `${jobId} ttft`);
        for (const r of requests) assert.ok(r.model && r.provider && r.request_id && r.ttft > 0, JSON.stringify(r));
      }
    });

    it('writes one tts_request and stt_request per TTS and STT metrics object: characters, audio', () => {
      for (const [jobId, records] of byJob) {
        const objects = totals.jobs[jobId].logged_metrics.map((e) => e.metrics);
        for (const [event, type] of [['tts_request', 'tts_metrics'], ['stt_request', 'stt_metrics']]) {
          const requests = records.filter((r) => r['livekit.event'] === event);
          const expected = objects.filter((m) => m.type === type);
          assert.equal(requests.length, expected.length, `${jobId} ${event}`);
          assertSeconds(requests.map((r) => r.audio_duration), expected.map((m) => m.audioDurationMs), `${jobId} ${event} audio`);
          if (event === 'tts_request') {
            assert.equal(sum(requests.map((r) => r.characters_count)), sum(expected.map((m) => m.charactersCount)));
            assertSeconds(requests.map((r) => r.ttfb), expected.map((m) => m.ttfbMs), `${jobId} ttfb`);
          }
        }
      }
      const tts = totals.overall.metrics_counts.tts_metrics;
      assert.ok(tts > 0 && totals.overall.metrics_counts.stt_metrics > 0);
    });

    it('writes one error record per error event, with the TTS and STT give-ups', () => {
      for (const [jobId, records] of byJob) {
        const got = {};
        for (const r of records.filter((x) => x['livekit.event'] === 'error')) {
          const key = `${r.error_kind}/${r.recoverable ? 'recoverable' : 'unrecoverable'}`;
          got[key] = (got[key] ?? 0) + 1;
          assert.ok(r.error_type && r.model && r.provider && !('message' in r), JSON.stringify(r));
        }
        const expected = {};
        for (const [type, counts] of Object.entries(totals.jobs[jobId].errors)) {
          for (const [which, n] of Object.entries(counts)) if (n) expected[`${type.replace('_error', '')}/${which}`] = n;
        }
        assert.deepEqual(got, expected, jobId);
      }
      const errors = totals.overall.errors;
      assert.ok(errors.tts_error.unrecoverable >= 1, 'a TTS call that gives up');
      assert.ok(errors.stt_error.unrecoverable >= 1, 'an STT stream that gives up');
      assert.ok(errors.llm_error.recoverable >= 1 && errors.llm_error.unrecoverable >= 1);
    });

    it('writes turns and one conversation record per session from its history and close event', () => {
      const reasons = {};
      for (const [jobId, records] of byJob) {
        const job = totals.jobs[jobId];
        const turns = records.filter((r) => r['livekit.event'] === 'turn');
        assert.equal(turns.filter((t) => t.role === 'user').length, job.user_turns, jobId);
        assert.equal(turns.filter((t) => t.role === 'assistant').length, job.agent_turns, jobId);
        assert.ok(turns.every((t) => !('text' in t)), 'no transcript text by default');
        const conversations = records.filter((r) => r['livekit.event'] === 'conversation');
        assert.equal(conversations.length, 1);
        const [conversation] = conversations;
        assert.equal(records.at(-1), conversation, 'nothing after the conversation record');
        assert.equal(conversation.close_reason, job.close_reason);
        assert.equal(conversation.user_turns, job.user_turns);
        assert.equal(conversation.agent_turns, job.agent_turns);
        assert.ok(conversation.duration > 0 && conversation.duration <= job.ended_at - job.started_at + 0.001);
        const errorCounts = {};
        for (const [type, counts] of Object.entries(job.errors)) errorCounts[type.replace('_error', '')] = counts.recoverable + counts.unrecoverable;
        assert.deepEqual(conversation.errors, errorCounts);
        assert.ok(conversation.outcome === undefined || conversation.outcome === 'resolved');
        reasons[conversation.close_reason] = (reasons[conversation.close_reason] ?? 0) + 1;
      }
      assert.deepEqual(reasons, totals.overall.close_reasons);
      assert.ok(reasons.error >= 2 && reasons.user_initiated >= 1, JSON.stringify(reasons));
    });
  });
}
