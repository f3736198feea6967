# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""One raw log line -> a `Line` (level, logger, job fields and at most one typed event).

The shape of the line decides the SDK: Python's JsonFormatter writes a string `level` and a
`message`; Node's pino writes a numeric `level` and `msg`. Each format module knows its key names,
units and message texts; this module only decodes, sorts and records why a line was rejected.
"""

import json as stdlib_json

from datadog_checks.base.utils.serialization import json

from . import node_format, python_format
from .fields import MAX_TEXT, BadValue, text

# `livekit.log.unparsed` reasons
INVALID_UTF8 = 'invalid_utf8'
NOT_JSON = 'not_json'
NOT_OBJECT = 'not_object'
UNKNOWN_SHAPE = 'unknown_shape'
BAD_VALUE = 'bad_value'
UNKNOWN_SCHEMA = 'unknown_schema'

COMPANION_SCHEMA = 1


class Line:
    """What the pipeline needs from one LiveKit log line."""

    __slots__ = (
        'language',
        'level',
        'logger',
        'is_error',
        'timestamp',
        'job_id',
        'agent_name',
        'room',
        'event',
        'companion',
        'service',
        'rejected',
    )

    def __init__(self, language, level, logger, is_error, timestamp, job_id, agent_name, rejected):
        self.language = language
        self.level = level
        self.logger = logger
        self.is_error = is_error
        self.timestamp = timestamp
        self.job_id = job_id
        self.agent_name = agent_name
        self.rejected = rejected
        self.event = None
        self.room = None
        self.companion = False
        self.service = None


def parse_line(raw, loads=json.loads):
    """A `Line`, or the `livekit.log.unparsed` reason when `raw` is not a LiveKit log line."""
    try:
        obj = loads(raw)
    except ValueError:
        obj = _decode_leniently(raw)
        if type(obj) is str:
            return obj
    if type(obj) is not dict:
        return NOT_OBJECT
    get = obj.get
    level = get('level')
    level_type = type(level)
    if level_type is str:
        fmt = python_format
        message = get('message')
    elif level_type is int:
        fmt = node_format
        message = get('msg', '')
    else:
        return UNKNOWN_SHAPE
    if type(message) is not str:
        return UNKNOWN_SHAPE

    logger = get(fmt.LOGGER_KEY)
    job_id = fmt.job_id(obj)
    agent_name = get(fmt.AGENT_NAME_KEY)
    rejected = None
    if (job_id is not None and (type(job_id) is not str or len(job_id) > MAX_TEXT)) or (
        agent_name is not None and type(agent_name) is not str
    ):
        job_id = agent_name = None
        rejected = BAD_VALUE
    line = Line(
        fmt.LANGUAGE,
        level,
        logger if type(logger) is str else None,
        level in fmt.ERROR_LEVELS,
        get(fmt.TIME_KEY),
        job_id,
        agent_name[:MAX_TEXT] if agent_name else None,
        rejected,
    )
    if rejected is not None:
        return line
    handler = fmt.MESSAGES.get(message)
    try:
        if handler is None:
            event = fmt.read_other(obj, message, level)
        else:
            read, companion = handler
            if companion:
                line.companion = True
                if get('livekit.schema') != COMPANION_SCHEMA:
                    line.rejected = UNKNOWN_SCHEMA
                    return line
                line.service = text(obj, 'service')
            event = read(obj)
        if event is not None:
            line.room = fmt.room(obj)
            line.event = event
    except BadValue:
        line.rejected = BAD_VALUE
    return line


def _decode_leniently(raw):
    """The object of a line orjson refused, or the reason it is not JSON.

    Python's json writes NaN and Infinity literals, which orjson rejects; such a line is still a
    LiveKit line, and its non-finite values are then rejected field by field.
    """
    if b'NaN' in raw or b'Infinity' in raw:
        try:
            return stdlib_json.loads(raw)
        except (ValueError, RecursionError):
            pass
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError:
        return INVALID_UTF8
    return NOT_JSON
