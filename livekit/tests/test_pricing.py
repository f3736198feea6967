# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The price table and the dollars of one request: the shipped table, the `prices` option over it,
what a bad entry says, and the arithmetic of each kind."""

import datetime

import pytest

from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.pricing.cost import llm_cost, realtime_cost, stt_cost, tts_cost
from datadog_checks.livekit.pricing.table import PRICE_KEYS, PriceTable, shipped_table
from lk_producers import plans

# the realtime model the Node producer's sessions name, and the plugins' defaults users run most
MORE_MODELS = [
    ('openai', 'gpt-realtime'),
    ('openai', 'gpt-4o-mini'),
    ('deepgram', 'nova-3'),
    ('elevenlabs', 'eleven_flash_v2_5'),
    ('cartesia', 'sonic-2'),
    ('google', 'gemini-2.0-flash'),
]


def test_the_shipped_table_is_dated_and_prices_every_model_the_generator_and_demo_use():
    as_of, table = shipped_table()
    assert datetime.date.fromisoformat(as_of) <= datetime.date.today()
    prices = PriceTable()
    used = [(m['provider'], m['model']) for m in plans.LLMS + plans.TTSS + plans.STTS] + MORE_MODELS
    assert [model for model in used if prices.lookup(*model) is None] == []
    for kind, catalog, needed in (
        ('llm', plans.LLMS, {'input_per_million', 'output_per_million'}),
        ('tts', plans.TTSS, {'audio_per_minute'}),
        ('stt', plans.STTS, {'audio_per_minute'}),
    ):
        for model in catalog:
            assert needed <= set(prices.lookup(model['provider'], model['model'])), (kind, model)


def test_tts_priced_per_character_also_has_its_derived_per_minute_price():
    """900 characters a minute of speech (the table's header says why)."""
    _, table = shipped_table()
    per_character = {key: entry for key, entry in table.items() if 'characters_per_million' in entry}
    assert len(per_character) >= 5
    for key, entry in per_character.items():
        assert entry['audio_per_minute'] == pytest.approx(entry['characters_per_million'] * 900 / 1e6), key


def test_a_model_is_found_without_its_date_or_latest_suffix_and_in_any_case():
    prices = PriceTable()
    haiku = prices.lookup('anthropic', 'claude-3-5-haiku')
    assert prices.lookup('anthropic', 'claude-3-5-haiku-latest') is haiku
    assert prices.lookup('anthropic', 'claude-3-5-haiku-20241022') is haiku
    assert prices.lookup('OpenAI', 'GPT-4o-mini-2024-07-18') is prices.lookup('openai', 'gpt-4o-mini')
    assert prices.lookup('openai', 'gpt-4o-mini-tts') is not prices.lookup('openai', 'gpt-4o-mini')
    assert prices.lookup('acme', 'unknown-model') is None
    assert prices.lookup(None, 'gpt-4.1') is None and prices.lookup('openai', None) is None


def test_the_option_overrides_and_extends_the_table():
    prices = PriceTable(
        {
            'openai/gpt-4.1': {'input_per_million': 1.0, 'output_per_million': 4},
            'acme/voice-1': {'audio_per_minute': 0.01},
        }
    )
    assert prices.lookup('openai', 'gpt-4.1') == {'input_per_million': 1.0, 'output_per_million': 4.0}
    assert prices.lookup('acme', 'voice-1') == {'audio_per_minute': 0.01}
    assert prices.lookup('openai', 'gpt-4o') == PriceTable().lookup('openai', 'gpt-4o')


@pytest.mark.parametrize(
    'prices, message',
    [
        ({'gpt-4.1': {'input_per_million': 1}}, "`prices`: 'gpt-4.1' is not a `provider/model` key"),
        ({'openai/gpt-4.1': {'input_per_milion': 1}}, "`prices`: openai/gpt-4.1: unknown price key 'input_per_milion'"),
        (
            {'openai/gpt-4.1': {'input_per_million': -1}},
            '`prices`: openai/gpt-4.1: input_per_million must be a number of dollars >= 0, got -1',
        ),
        (
            {'openai/gpt-4.1': {'input_per_million': 'two'}},
            "input_per_million must be a number of dollars >= 0, got 'two'",
        ),
        ({'openai/gpt-4.1': 2.0}, '`prices`: openai/gpt-4.1: expected a mapping of price keys'),
        (['openai/gpt-4.1'], '`prices`: expected a mapping of `provider/model` to prices, got list'),
    ],
)
def test_a_bad_entry_fails_the_config_with_the_key_and_what_was_expected(dd_run_check, tmp_path, prices, message):
    instance = {'log_paths': [str(tmp_path / '*.log')], 'prices': prices}
    with pytest.raises(Exception, match='prices') as raised:
        dd_run_check(LiveKitCheck('livekit', {}, [instance]))
    assert message in str(raised.value)
    if 'unknown price key' in message:
        assert ', '.join(PRICE_KEYS) in str(raised.value)


def test_llm_cost_charges_cached_tokens_at_their_price():
    prices = {'input_per_million': 2.0, 'cached_input_per_million': 0.5, 'output_per_million': 8.0}
    # 1,000 prompt tokens of which 400 cached, 100 completion tokens
    assert llm_cost(prices, 1000, 400, 100) == pytest.approx((600 * 2.0 + 400 * 0.5 + 100 * 8.0) / 1e6)
    # no cache price: cached tokens are input tokens
    assert llm_cost({'input_per_million': 0.59, 'output_per_million': 0.79}, 1000, 400, 100) == pytest.approx(
        (1000 * 0.59 + 100 * 0.79) / 1e6
    )
    assert llm_cost({'output_per_million': 1.0}, 10, 0, 10) is None


def test_realtime_cost_prices_tokens_as_audio_where_the_table_has_audio_prices():
    gpt_realtime = PriceTable().lookup('openai', 'gpt-realtime')
    expected = ((960 - 768) * 32.0 + 768 * 0.40 + 174 * 64.0) / 1e6
    assert realtime_cost(gpt_realtime, 960, 768, 174) == pytest.approx(expected)
    text_only = {'input_per_million': 1.0, 'output_per_million': 2.0}
    assert realtime_cost(text_only, 100, 0, 10) == pytest.approx((100 * 1.0 + 10 * 2.0) / 1e6)


def test_stt_and_tts_cost():
    assert stt_cost({'audio_per_minute': 0.0077}, 90.0) == pytest.approx(1.5 * 0.0077)
    assert stt_cost({'characters_per_million': 30.0}, 90.0) is None
    sonic = {'characters_per_million': 39.2, 'audio_per_minute': 0.03528}
    assert tts_cost(sonic, 612, 39.88) == pytest.approx(612 * 39.2 / 1e6)
    # stock logs know the audio, not the characters
    assert tts_cost(sonic, None, 39.88) == pytest.approx(39.88 / 60 * 0.03528)
    assert tts_cost({'audio_per_minute': 0.015}, 612, 60.0) == pytest.approx(0.015)
