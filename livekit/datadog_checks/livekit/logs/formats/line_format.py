# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""What a line format gives `parsers.read_line` and the pipeline: declared once, one `LineFormat` per SDK."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple


class HeaderKeys(NamedTuple):
    """The keys `read_line` reads from every line of a format."""

    message: str
    logger: str
    time: str
    job_id: str
    # read when `job_id` is absent; None when the SDK has one key only
    other_job_id: str | None
    agent_name: str


@dataclass(frozen=True, slots=True)
class LineFormat:
    """How one SDK writes its log lines: key names, levels, and the readers of its events.

    A line's format is told by the type of its `level` (see `formats.BY_LEVEL_TYPE`).
    """

    # the `language` tag of everything the format's lines give
    language: str
    header_keys: HeaderKeys
    # whether a line without a message is no line of this format
    message_required: bool
    # the lines counted by logger in `livekit.log.errors`
    error_levels: frozenset
    # level -> `level` tag value; any other level is tagged `other`
    level_tags: Mapping
    # fixed message text -> (read(obj) -> event, whether it is a companion record)
    messages: Mapping
    # `read_other(obj, message, level)` reads the lines whose message is no fixed text, at these levels only
    other_levels: frozenset
    read_other: Callable
    # `room(obj)`: the room a line with an event names, or None
    room: Callable
