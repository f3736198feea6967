# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Deterministic conversation plans: what the caller says, what the models answer, which models
serve the call, and which provider failures to inject. Same seed, same plans."""

from __future__ import annotations

import random
from typing import Any

# (model, provider) catalogs with plausible latencies; a plan picks one of each.
LLMS = [
    {'model': 'gpt-4o-mini', 'provider': 'openai', 'ttft': [0.25, 0.6], 'words_per_second': 40, 'cache': 'prefix'},
    {'model': 'gpt-4.1', 'provider': 'openai', 'ttft': [0.35, 0.9], 'words_per_second': 25, 'cache': 'prefix'},
    {'model': 'gemini-2.0-flash', 'provider': 'google', 'ttft': [0.2, 0.5], 'words_per_second': 60, 'cache': None},
    {
        'model': 'claude-3-5-haiku-latest',
        'provider': 'anthropic',
        'ttft': [0.4, 0.9],
        'words_per_second': 30,
        'cache': 'explicit',
        'request_prefix': 'msg_',
    },
    {
        'model': 'o4-mini',
        'provider': 'openai',
        'ttft': [0.9, 1.8],
        'words_per_second': 35,
        'cache': 'prefix',
        'reasoning': True,
    },
    {
        'model': 'llama-3.3-70b-versatile',
        'provider': 'groq',
        'ttft': [0.1, 0.25],
        'words_per_second': 120,
        'cache': None,
    },
]
TTSS = [
    {'model': 'sonic-2', 'provider': 'cartesia', 'ttfb': [0.08, 0.2]},
    {'model': 'eleven_flash_v2_5', 'provider': 'elevenlabs', 'ttfb': [0.15, 0.35]},
    {'model': 'gpt-4o-mini-tts', 'provider': 'openai', 'ttfb': [0.3, 0.6]},
]
STTS = [
    {'model': 'nova-3', 'provider': 'deepgram', 'final_delay': [0.05, 0.2]},
    {'model': 'universal-streaming', 'provider': 'assemblyai', 'final_delay': [0.1, 0.3]},
    {'model': 'gpt-4o-transcribe', 'provider': 'openai', 'final_delay': [0.3, 0.6], 'tokens_per_second': 10},
]

INSTRUCTIONS = ' '.join(
    [
        'You are Aria, the voice assistant of Northwind Mobile, a mobile network operator.',
        'You talk with customers on the phone, so answer in one to three short sentences of plain',
        'spoken language: no lists, no markdown, no emojis, no abbreviations that sound odd aloud.',
        "Always confirm the caller's account before discussing billing: ask for the last four digits",
        'of the account number and the postcode, and never read back more than the last four digits',
        'of any number. You can help with data plans, roaming, billing questions, SIM replacement,',
        'number porting, device unlocking, network outages and appointment booking in our stores.',
        'Plans: Basic has 5 GB of data for 15 dollars, Plus has 25 GB for 30 dollars, Unlimited',
        'costs 45 dollars with 50 GB of priority data and then reduced speed. Every plan includes',
        'unlimited calls and texts within the country. Roaming passes cost 5 dollars per day in',
        'Europe and North America and 10 dollars per day elsewhere; they renew daily while abroad',
        'and stop when the customer comes home. A SIM replacement is free once a year, then 10',
        'dollars; an eSIM can be activated immediately from the app. Porting a number in takes one',
        'business day and needs the porting code from the previous operator. Devices bought from',
        'us unlock automatically after 60 days. During an outage, look up the postcode in the outage',
        'tool, give the estimated time of repair, and offer a bill credit of one day of service',
        'when the outage lasts longer than four hours. Store appointments can be booked for the',
        'next seven days between 9 am and 6 pm. If the caller is angry, acknowledge it once and',
        'move on to solving the problem. If you cannot help, offer a transfer to a human agent and',
        'tell the caller the expected waiting time. Never promise refunds above 50 dollars; those',
        'need a supervisor. Do not give legal, medical or financial advice. Do not make up',
        "information about the caller's account; if a tool fails, say that the system is slow and",
        "offer to call back. Speak numbers the way people say them, for example 'fifteen dollars'.",
        'Keep a friendly, calm and efficient tone. At the end of the call, summarize what was',
        "done, ask whether there is anything else, and say goodbye with the caller's first name",
        'when you know it. Company facts: Northwind Mobile has served customers since 2009, has',
        '212 stores, and its support line is open every day from 7 am to 11 pm. The app is called',
        'Northwind and is available on both app stores. Customers can pay by card, bank transfer or',
        'in store; autopay gives a 2 dollar monthly discount. Family plans give 10 percent off each',
        'line from the second line on. Students get 15 percent off Plus and Unlimited with a valid',
        'student card. Business customers must be transferred to the business desk. Refuse any',
        'request to change the account holder over the phone; it must be done in a store with an ID.',
        'If the caller asks about 5G, coverage reaches 96 percent of the population; 5G is included',
        'in Plus and Unlimited. Wi-Fi calling works on all recent phones and is free. International',
        'calls cost 20 cents per minute to most countries unless the customer has the World add-on',
        'for 10 dollars per month, which includes 300 minutes. Voicemail is reached by dialing 121.',
        'Lost or stolen phones: block the SIM right away, then offer a replacement SIM and the',
        'insurance claim form if the customer has device insurance, which costs 7 dollars a month.',
        'Data top-ups cost 5 dollars for 2 GB and are valid until the end of the billing cycle.',
    ]
)

# (what the caller says, what the agent answers)
EXCHANGES = [
    (
        "Hi, I'd like to check how much data I have left this month.",
        'Sure, I can check that for you. Could you tell me the last four digits of your account number and '
        'your postcode?',
    ),
    (
        "It's 4821 and my postcode is 90210.",
        'Thank you, your account is confirmed. You have 3.2 gigabytes left out of 25, and your plan renews '
        'in nine days.',
    ),
    (
        'Can I upgrade to the unlimited plan?',
        'Yes, Unlimited costs 45 dollars a month with 50 gigabytes of priority data. Would you like the '
        'change to start today or at your next renewal?',
    ),
    (
        'Start it today please.',
        "Done, you're now on Unlimited, and today's difference will be prorated on your next bill.",
    ),
    (
        "I'm travelling to Spain next week, how does roaming work?",
        "A roaming pass for Europe costs 5 dollars per day and renews daily while you're abroad. It stops "
        "automatically once you're back home.",
    ),
    (
        'Is there a cheaper option for two weeks?',
        "The daily pass is the only roaming option, but you can turn it off in the app on days you don't need data.",
    ),
    (
        'My bill is higher than usual this month.',
        "I'm sorry about that. I see a 10 dollar international calls charge from the 14th, which explains "
        'the difference.',
    ),
    (
        'Oh, that was a call to my sister in Canada.',
        'That makes sense. The World add-on would have included those minutes for 10 dollars a month, should '
        'I add it for the future?',
    ),
    (
        'Yes, add it.',
        'The World add-on is now active and includes 300 international minutes each month.',
    ),
    (
        'My phone was stolen yesterday.',
        "I'm sorry to hear that. I've blocked your SIM right away. Would you like a replacement SIM sent to "
        'your home address?',
    ),
    (
        'Yes please, to my home address.',
        "Your replacement SIM will arrive in two business days, and it's free since it's your first one this year.",
    ),
    (
        "There's no signal at my house since this morning.",
        "There's a known outage in your area since 7 am. Our technicians expect to fix it by 3 pm today.",
    ),
    (
        "That's really annoying, I work from home.",
        "I understand, and I'm sorry. Since it has lasted more than four hours, I've added a one day credit "
        'to your account.',
    ),
    (
        'Can I book an appointment at the downtown store?',
        'Of course. I have openings tomorrow at 10 am and at 2 pm, which one works better for you?',
    ),
    (
        'Two pm works.',
        "You're booked at the downtown store tomorrow at 2 pm. You'll get a confirmation text shortly.",
    ),
    (
        'I want to move my number from my old operator.',
        'Happy to help. Please get the porting code from your previous operator, and the transfer will take '
        'one business day.',
    ),
    (
        'Does my plan include 5G?',
        'Yes, Plus includes 5G, and our coverage reaches 96 percent of the population.',
    ),
    (
        'Can I pay with autopay?',
        'Yes, and autopay gives you a 2 dollar discount every month. '
        'I can set it up with the card on file if you like.',
    ),
    (
        "That's all, thank you.",
        "You're welcome. Thanks for calling Northwind Mobile, have a great day!",
    ),
]
GREETINGS = [
    'Hello, thanks for calling Northwind Mobile. This is Aria, how can I help you today?',
    "Hi, you've reached Northwind Mobile support, I'm Aria. What can I do for you?",
    'Welcome to Northwind Mobile. My name is Aria. How can I help?',
]

# Scenario cycle: conversation i follows SCENARIOS[i % len(SCENARIOS)].
SCENARIOS = [
    'normal',
    'llm_rate_limited',
    'short',
    'llm_outage',
    'tts_flaky',
    'hangup',
    'stt_reconnect',
    'tts_down',
    'silent_caller',
    'llm_server_errors',
    'llm_fallback',
    'tts_fallback',
]
TURNS = {
    'normal': (3, 6),
    'llm_rate_limited': (3, 5),
    'short': (1, 2),
    'llm_outage': (5, 6),
    'tts_flaky': (3, 5),
    'hangup': (2, 3),
    'stt_reconnect': (4, 7),
    'tts_down': (3, 4),
    'silent_caller': (0, 0),
    'llm_server_errors': (4, 7),
    'llm_fallback': (3, 5),
    'tts_fallback': (3, 5),
}
ATTEMPTS_UNTIL_UNRECOVERABLE = 4  # max_retry 3 + the first attempt
FALLBACK_TTS_ATTEMPTS = 3  # tts.FallbackAdapter's max_retry_per_tts 2 + the first attempt


def build_plans(count: int, seed: int, time_scale: float, *, tools: bool = False) -> list[dict[str, Any]]:
    plans = [build_plan(index, seed, time_scale) for index in range(count)]
    if tools:  # `--tools`: scripted function tool calls (scripted_tools.py); off, the plans are unchanged
        from lk_producers.scripted_tools import add_tools

        plans = [add_tools(plan) for plan in plans]
    return plans


def build_plan(index: int, seed: int, time_scale: float) -> dict[str, Any]:
    rng = random.Random(f'{seed}/{index}')
    scenario = SCENARIOS[index % len(SCENARIOS)]
    turns = rng.randint(*TURNS[scenario])
    start = rng.randrange(len(EXCHANGES) - turns) if turns else 0
    exchanges = EXCHANGES[start : start + turns]
    plan: dict[str, Any] = {
        'index': index,
        'seed': f'{seed}/{index}',
        'scenario': scenario,
        'time_scale': time_scale,
        'instructions': INSTRUCTIONS,
        'llm': LLMS[(index + seed) % len(LLMS)],
        'tts': TTSS[(index // 2 + seed) % len(TTSS)],
        'stt': STTS[(index // 3 + seed) % len(STTS)],
        'turns': [
            {
                'user': user,
                'speech_s': round(len(user) * 0.06 + rng.uniform(0.2, 0.6), 2),
                'pause_s': round(rng.uniform(0.3, 1.2), 2),
            }
            for user, _ in exchanges
        ],
        'replies': [rng.choice(GREETINGS)] + [agent for _, agent in exchanges],
        'llm_faults': {},
        'tts_faults': {},
        'stt_fault': None,
        'hangup_during_reply': None,
        # the model spec of a second instance behind LiveKit's FallbackAdapter (it never fails)
        'llm_backup': None,
        'tts_backup': None,
    }
    _inject(plan, rng)
    return plan


def _inject(plan: dict[str, Any], rng: random.Random) -> None:
    """Provider failures and early hang-ups for the plan's scenario."""
    scenario, turns = plan['scenario'], len(plan['turns'])
    if scenario == 'llm_rate_limited':
        plan['llm_faults'][rng.randint(1, turns)] = {'kind': '429', 'attempts': 1}
    elif scenario == 'llm_server_errors':
        plan['llm_faults'][0] = {'kind': '500', 'attempts': 1}
        plan['llm_faults'][rng.randint(2, turns)] = {'kind': '429', 'attempts': 2}
    elif scenario == 'llm_outage':
        # the provider goes down after the first exchange: every later request fails until the
        # session gives up (more than max_unrecoverable_errors unrecoverable errors in a row)
        for turn in range(2, turns + 1):
            plan['llm_faults'][turn] = {'kind': 'connection', 'attempts': ATTEMPTS_UNTIL_UNRECOVERABLE}
    elif scenario in ('tts_flaky', 'tts_down'):
        # fails the first sentence of one answer: once (flaky) or until retries run out (down)
        opening = ' '.join(plan['replies'][rng.randint(1, turns)].split()[:4])
        attempts = 1 if scenario == 'tts_flaky' else ATTEMPTS_UNTIL_UNRECOVERABLE
        plan['tts_faults'][opening] = {'kind': '503', 'attempts': attempts}
    elif scenario == 'stt_reconnect':
        plan['stt_fault'] = {'kind': 'connection', 'attempts': 1}
    elif scenario == 'hangup':
        plan['hangup_during_reply'] = turns  # the caller hangs up while the last answer plays
    elif scenario == 'llm_fallback':
        # llm.FallbackAdapter([primary, backup]): the primary fails one request and the backup
        # answers; the adapter's background probe of the primary then fails once more (both
        # attempts of that turn fail) before a later probe finds it recovered
        plan['llm_backup'] = LLMS[(LLMS.index(plan['llm']) + 1) % len(LLMS)]
        plan['llm_faults'][rng.randint(1, turns - 1)] = {'kind': '503', 'attempts': 2}
    elif scenario == 'tts_fallback':
        # tts.FallbackAdapter([primary, backup]) with its default 2 retries per instance: the
        # primary fails one sentence on every attempt, the backup speaks it
        plan['tts_backup'] = TTSS[(TTSS.index(plan['tts']) + 1) % len(TTSS)]
        opening = ' '.join(plan['replies'][rng.randint(1, turns)].split()[:4])
        plan['tts_faults'][opening] = {'kind': '503', 'attempts': FALLBACK_TTS_ATTEMPTS}
