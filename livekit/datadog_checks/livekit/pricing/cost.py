# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Dollars of one request, from its usage and the prices of its model (`table.PriceTable.lookup`).

Each function returns None when the prices it needs are missing, so the caller can count the usage
as unpriced instead of as free.
"""

MILLION = 1_000_000.0


def llm_cost(prices, input_tokens, cached_tokens, output_tokens):
    """(prompt - cached) x input + cached x cached_input + completion x output, per million tokens.

    LiveKit's prompt tokens include the cached ones. A model without a cache price bills cached
    tokens as input.
    """
    input_price = prices.get('input_per_million')
    output_price = prices.get('output_per_million')
    if input_price is None or output_price is None:
        return None
    cached = min(cached_tokens or 0, input_tokens or 0)
    cached_price = prices.get('cached_input_per_million', input_price)
    return (
        ((input_tokens or 0) - cached) * input_price / MILLION
        + cached * cached_price / MILLION
        + (output_tokens or 0) * output_price / MILLION
    )


def realtime_cost(prices, input_tokens, cached_tokens, output_tokens):
    """A speech-to-speech response, priced as audio tokens.

    LiveKit's realtime log lines give the token totals without the audio/text split, and a voice
    session's tokens are mostly audio: the audio prices apply where the table has them (an upper
    estimate when part of the tokens were text), the text prices otherwise.
    """
    audio = {
        'input_per_million': prices.get('audio_input_per_million', prices.get('input_per_million')),
        'cached_input_per_million': prices.get(
            'cached_audio_input_per_million', prices.get('cached_input_per_million')
        ),
        'output_per_million': prices.get('audio_output_per_million', prices.get('output_per_million')),
    }
    return llm_cost({k: v for k, v in audio.items() if v is not None}, input_tokens, cached_tokens, output_tokens)


def stt_cost(prices, audio_duration):
    per_minute = prices.get('audio_per_minute')
    return None if per_minute is None else (audio_duration or 0.0) / 60.0 * per_minute


def tts_cost(prices, characters, audio_duration):
    """By characters when they are known (the companion reports them), else by the minutes synthesized."""
    per_character = prices.get('characters_per_million')
    if characters and per_character is not None:
        return characters * per_character / MILLION
    return stt_cost(prices, audio_duration)


def request_cost(prices, kind, event):
    """Dollars of one request event of `kind` (`llm`, `realtime`, `tts`, `stt`), or None."""
    if kind == 'llm':
        return llm_cost(prices, event.input_tokens, event.cached_tokens, event.output_tokens)
    if kind == 'realtime':
        return realtime_cost(prices, event.input_tokens, event.cached_tokens, event.output_tokens)
    if kind == 'tts':
        return tts_cost(prices, event.characters, event.audio_duration)
    return stt_cost(prices, event.audio_duration)
