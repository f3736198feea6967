# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The price table: the shipped `prices.yaml` overridden and extended by the instance option `prices`.

A model is priced by `provider/model` as LiveKit reports them; a name with a date or `-latest` suffix
that has no entry of its own is looked up without it. What is not in the table has no price: the
caller counts it as unpriced, never as zero dollars.
"""

import re
from pathlib import Path

import yaml

SHIPPED = Path(__file__).resolve().parent / 'prices.yaml'
PRICE_KEYS = (
    'input_per_million',
    'cached_input_per_million',
    'output_per_million',
    'audio_input_per_million',
    'cached_audio_input_per_million',
    'audio_output_per_million',
    'characters_per_million',
    'audio_per_minute',
)
# `claude-3-5-haiku-latest`, `gpt-4o-mini-2024-07-18`, `claude-3-5-haiku-20241022`
VERSION_SUFFIX = re.compile(r'-(?:latest|\d{4}-\d{2}-\d{2}|\d{8})$')


def shipped_table():
    """(as_of, {key: prices}) of the table in the package."""
    with open(SHIPPED, encoding='utf-8') as f:
        shipped = yaml.safe_load(f)
    return str(shipped['as_of']), validated(shipped['prices'], 'prices.yaml')


def validated(prices, where):
    """`prices` as {'provider/model': {price key: float}}; a ValueError names the entry and what was expected."""
    if not isinstance(prices, dict):
        raise ValueError(
            '{}: expected a mapping of `provider/model` to prices, got {}'.format(where, type(prices).__name__)
        )
    table = {}
    for key, entry in prices.items():
        if not isinstance(key, str) or '/' not in key.strip('/'):
            raise ValueError('{}: {!r} is not a `provider/model` key'.format(where, key))
        if not isinstance(entry, dict) or not entry:
            raise ValueError(
                '{}: {}: expected a mapping of price keys ({}) to numbers'.format(where, key, ', '.join(PRICE_KEYS))
            )
        for name, value in entry.items():
            if name not in PRICE_KEYS:
                raise ValueError(
                    '{}: {}: unknown price key {!r}, expected one of {}'.format(where, key, name, ', '.join(PRICE_KEYS))
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(
                    '{}: {}: {} must be a number of dollars >= 0, got {!r}'.format(where, key, name, value)
                )
        table[key.lower()] = {name: float(value) for name, value in entry.items()}
    return table


def plain_prices(prices):
    """The config model's read-only `prices` as plain dicts (None: none given)."""
    return None if prices is None else {key: dict(entry) for key, entry in prices.items()}


class PriceTable:
    """Prices by (provider, model): the shipped table, then the instance's `prices` over it."""

    def __init__(self, overrides=None):
        self.as_of, shipped = shipped_table()
        self.entries = {**shipped, **validated(overrides or {}, 'prices')}
        self._found = {}

    def lookup(self, provider, model):
        """The prices of a model ({price key: dollars}), or None when the table does not price it."""
        key = (provider, model)
        found = self._found.get(key, False)
        if found is False:
            found = self._found[key] = self._find(provider, model)
        return found

    def _find(self, provider, model):
        if not provider or not model:
            return None
        provider, model = provider.lower(), model.lower()
        entry = self.entries.get('{}/{}'.format(provider, model))
        if entry is None:
            entry = self.entries.get('{}/{}'.format(provider, VERSION_SUFFIX.sub('', model)))
        return entry
