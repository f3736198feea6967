"""`make demo`: real LiveKit output, offline, as Datadog would receive it.

1. Runs real conversations: a real livekit-agents worker gets ten jobs from a local stand-in for the
   server's dispatch; each job is a real AgentSession with scripted audio and local STT/LLM/TTS, some
   with injected provider failures; six of them also use the companion (livekit-plugins-datadog).
2. Starts a second real worker with its health server and Prometheus endpoint (pointed at a LiveKit
   URL where nothing listens, so it idles).
3. Runs `livekit-datadog check` against that worker and the conversations' log, twice (the second run
   ends the conversations that went idle), prints what Datadog would receive, and compares the
   headline numbers with LiveKit's own totals. Then stops the worker.
"""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from lk_producers.capture_worker_metrics import running_worker

from datadog_checks.livekit.cli.check_command import print_tables
from datadog_checks.livekit.pricing.cost import llm_cost, stt_cost, tts_cost
from datadog_checks.livekit.pricing.table import PriceTable

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / '.demo'
CONVERSATIONS = 10
# The companion on six of the ten conversations, so the difference shows.
WITH_COMPANION = (0, 1, 2, 3, 4, 7)
COMPANION_HOOK = '''
from livekit.plugins import datadog

def instrument(session, job):
    if job["conversation"] % 10 in {}:
        datadog.instrument(session, service="support-bot")
'''.format(WITH_COMPANION)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    step('Running {} real LiveKit conversations offline (livekit-agents worker, scripted audio)'.format(CONVERSATIONS))
    sessions = run_conversations()
    totals = json.loads((sessions / 'totals.json').read_text())

    step('Starting a real agent worker with its health server and Prometheus endpoint')
    with running_worker(WORK / 'worker') as worker:
        config = write_config(worker, sessions / 'agent.log')
        step('livekit-datadog check --config {} --runs 2 --interval 3 --json'.format(config.relative_to(REPO)))
        result = run_check(config)
    step('What Datadog would receive')
    print_tables(result)
    step('Compared with LiveKit\'s own numbers (totals.json, from session objects, not from the log)')
    compare(result, totals)
    if result['errors']:
        print('\nerrors: {}'.format(result['errors']))
        return 1
    return 0


def step(text):
    print('\n==> {}'.format(text), flush=True)


def run_conversations():
    (WORK / 'companion_hook.py').write_text(COMPANION_HOOK)
    out = WORK / 'sessions'
    command = [
        sys.executable, '-m', 'lk_producers.session_generator', '--out', str(out),
        '--conversations', str(CONVERSATIONS), '--time-scale', '0.05', '--concurrency', str(CONVERSATIONS),
        '--instrument', 'companion_hook:instrument',
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=WORK, stdout=subprocess.DEVNULL, timeout=600)
    print('    {} lines in {}'.format(sum(1 for _ in (out / 'agent.log').open('rb')), (out / 'agent.log').relative_to(REPO)))
    return out


def write_config(worker, log_path):
    config = WORK / 'conf.yaml'
    config.write_text(
        textwrap.dedent(
            '''\
            init_config:
            instances:
              - agent_endpoint: {metrics}
                agent_health_endpoint: {health}
                log_paths:
                  - {log}
                start_position: beginning
                conversation_idle_timeout: 2
                tags:
                  - team:voice
            logs:
              - type: integration
                source: livekit
                service: support-bot
            '''
        ).format(metrics=worker['metrics'], health=worker['health'], log=log_path)
    )
    return config


def run_check(config):
    command = [
        str(Path(sys.executable).with_name('livekit-datadog')), 'check', '--config', str(config),
        '--runs', '2', '--interval', '3', '--state-dir', str(WORK / 'state'), '--json',
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    sys.stderr.write(completed.stderr)
    return json.loads(completed.stdout)


def compare(result, totals):
    overall = totals['overall']

    def sent(name):
        return sum(m['value'] for m in result['metrics'] if m['name'] == name)

    rows = [
        ('LLM input tokens', overall['tokens']['prompt'], sent('livekit.llm.tokens.input')),
        ('LLM output tokens', overall['tokens']['completion'], sent('livekit.llm.tokens.output')),
        ('LLM requests', sum(e['count'] for e in overall['metrics_counts']['llm']), sent('livekit.llm.requests')),
        ('TTS requests', sum(e['count'] for e in overall['metrics_counts']['tts']), sent('livekit.tts.requests')),
        ('user turns', overall['user_turns'], sent('livekit.turns.user')),
        ('conversations', overall['conversations'], sent('livekit.conversations.ended')),
        (
            'failed provider attempts',
            sum(sum(kind.values()) for kind in overall['errors'].values()),
            sent('livekit.llm.errors') + sent('livekit.tts.errors') + sent('livekit.stt.errors'),
        ),
    ]
    rows.append(('estimated cost (USD)', round(usage_dollars(totals), 4), round(sent('livekit.cost.estimated'), 4)))
    print('    {:<26} {:>12} {:>12}'.format('', 'LiveKit', 'Datadog'))
    for label, livekit, datadog in rows:
        print('    {:<26} {:>12} {:>12}'.format(label, fmt(livekit), fmt(datadog)))
    print('    (LiveKit column: each job\'s session.usage times the shipped price table, dated {})'.format(PriceTable().as_of))
    short = [record for record in result['logs'] if record.get('livekit.event') == 'conversation.short']
    print('    {} conversations below 3 user turns were sent as records for the dashboard list:'.format(len(short)))
    for record in short:
        print('      job {job_id}  room {room}  turns {turns}  close_reason {close_reason}'.format(**{
            key: record.get(key, '-') for key in ('job_id', 'room', 'turns', 'close_reason')
        }))  # fmt: skip


def usage_dollars(totals):
    """Dollars of LiveKit's own usage (`session.usage` of every job) at the shipped prices: TTS by
    characters where the companion reports them, by audio minutes in the jobs without it."""
    prices, dollars = PriceTable(), 0.0
    for job in totals['jobs'].values():
        companion = job['conversation'] % 10 in WITH_COMPANION
        for usage in job.get('model_usage', []):
            entry = prices.lookup(usage.get('provider'), usage.get('model'))
            kind = usage['type'].split('_')[0]
            if entry is None:
                continue
            if kind == 'llm':
                cost = llm_cost(entry, usage['input_tokens'], usage['input_cached_tokens'], usage['output_tokens'])
            elif kind == 'tts':
                cost = tts_cost(entry, usage.get('characters_count') if companion else None, usage['audio_duration'])
            else:
                cost = stt_cost(entry, usage['audio_duration'])
            dollars += cost or 0.0
    return dollars


def fmt(value):
    return '{:g}'.format(value) if isinstance(value, float) else str(value)


if __name__ == '__main__':
    sys.exit(main())
