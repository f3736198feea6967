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
from .events import JobRequest
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
    """What the pipeline needs from one LiveKit log line (`logger` only on error lines)."""

    __slots__ = FIELDS = (
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

    def __init__(self, *fields):
        for name, value in zip(self.FIELDS, fields, strict=True):
            setattr(self, name, value)


def parse_line(raw):
    """A `Line`, or the `livekit.log.unparsed` reason when `raw` is not a LiveKit log line."""
    fields = read_line(raw)
    return fields if type(fields) is str else Line(*fields)


def read_line(raw, loads=json.loads):
    """`parse_line` as a plain tuple in the order of `Line.FIELDS` (or the reason string).

    The pipeline reads every line through this: a tuple costs a fraction of an object.
    """
    try:
        obj = loads(raw)
    except ValueError:
        obj = _decode_leniently(raw)
        if type(obj) is str:
            return obj
    # `obj.get(...)` each time: a bound `get` kept in a variable is slower on Python 3.13
    try:
        level = obj.get('level')
    except AttributeError:
        # a list, string, number, true, false or null: only an object is a log line
        return NOT_OBJECT
    # the type of the level tells the SDK: Python names its levels, Node numbers them
    fmt = _FORMATS.get(type(level))
    if fmt is None:
        return UNKNOWN_SHAPE
    message_key, logger_key, time_key, job_id_key, agent_name_key = fmt.HEADER_KEYS
    message = obj.get(message_key)
    timestamp = obj.get(time_key)
    job_id = obj.get(job_id_key)
    agent_name = obj.get(agent_name_key)
    if type(message) is not str:
        if message is not None or fmt.MESSAGE_REQUIRED:
            return UNKNOWN_SHAPE
        message = ''

    language = fmt.LANGUAGE
    is_error = level in fmt.ERROR_LEVELS
    # only error lines count by logger (`livekit.log.errors`)
    logger = None
    if is_error:
        logger = obj.get(logger_key)
        if type(logger) is not str:
            logger = None
    if job_id is None and fmt.OTHER_JOB_ID_KEY is not None:
        job_id = obj.get(fmt.OTHER_JOB_ID_KEY)
    if (job_id is not None and (type(job_id) is not str or len(job_id) > MAX_TEXT)) or (
        agent_name is not None and type(agent_name) is not str
    ):
        return (language, level, logger, is_error, timestamp, None, None, None, None, False, None, BAD_VALUE)
    agent_name = agent_name[:MAX_TEXT] if agent_name else None

    event = room = service = rejected = None
    companion = False
    handler = fmt.MESSAGES.get(message)
    try:
        if handler is None:
            if level in fmt.OTHER_LEVELS:
                event = fmt.read_other(obj, message, level)
        else:
            read, companion = handler
            if not companion:
                event = read(obj)
            elif obj.get('livekit.schema') == COMPANION_SCHEMA:
                service = text(obj, 'service')
                event = read(obj)
            else:
                rejected = UNKNOWN_SCHEMA
        if event is not None:
            room = fmt.room(obj)
            if event.__class__ is JobRequest and event.job_id is not None:
                # the worker announces a job: not a line of the job itself
                job_id = None
    except BadValue:
        event = None
        rejected = BAD_VALUE
    return (language, level, logger, is_error, timestamp, job_id, agent_name, room, event, companion, service, rejected)


_FORMATS = {str: python_format, int: node_format}


def _decode_leniently(raw):
    """The object of a line orjson refused, or the reason it is not one.

    Python's json writes NaN and Infinity literals, which orjson rejects; such a line is still a
    LiveKit line, and its non-finite values are then rejected field by field.
    """
    if b'NaN' in raw or b'Infinity' in raw:
        try:
            value = stdlib_json.loads(raw)
        except (ValueError, RecursionError):
            pass
        else:
            # a JSON string must not come back as if it were a reason
            return value if type(value) is dict else NOT_OBJECT
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError:
        return INVALID_UTF8
    return NOT_JSON
