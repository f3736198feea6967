# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""One raw log line -> a `Line` (level, logger, job fields and at most one typed event), or why it is none.

The type of the line's `level` tells the SDK (`formats.BY_LEVEL_TYPE`); the format knows its key
names, units and message texts. This module only decodes, sorts and records why a line was rejected.
"""

import json as stdlib_json

from datadog_checks.base.utils.serialization import json

from .events import JobRequest
from .fields import MAX_TEXT, BadValue, text
from .formats import BY_LEVEL_TYPE
from .formats.companion import COMPANION_SCHEMAS

# `livekit.log.unparsed` reasons
INVALID_UTF8 = 'invalid_utf8'
NOT_JSON = 'not_json'
NOT_OBJECT = 'not_object'
UNKNOWN_SHAPE = 'unknown_shape'
BAD_VALUE = 'bad_value'
UNKNOWN_SCHEMA = 'unknown_schema'


class Line:
    """What the pipeline needs from one LiveKit log line.

    `logger` is read on error lines only; `event` is None when the line carries none, and then
    `rejected` says why when the line tried to (`bad_value`, `unknown_schema`). `companion` tells a
    record of the companion, whose `service` it carries.
    """

    # a slotted class: built for every line, it costs less than a NamedTuple
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

    def __init__(
        self,
        language,
        level,
        logger,
        is_error,
        timestamp,
        job_id,
        agent_name,
        room,
        event,
        companion,
        service,
        rejected,
    ):
        self.language = language
        self.level = level
        self.logger = logger
        self.is_error = is_error
        self.timestamp = timestamp
        self.job_id = job_id
        self.agent_name = agent_name
        self.room = room
        self.event = event
        self.companion = companion
        self.service = service
        self.rejected = rejected

    def __repr__(self):
        return 'Line({})'.format(', '.join(f'{name}={getattr(self, name)!r}' for name in self.__slots__))


def read_line(raw, loads=json.loads):
    """A `Line`, or the `livekit.log.unparsed` reason (a string) when `raw` is not a LiveKit log line."""
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
    fmt = BY_LEVEL_TYPE.get(type(level))
    if fmt is None:
        return UNKNOWN_SHAPE
    message_key, logger_key, time_key, job_id_key, other_job_id_key, agent_name_key = fmt.header_keys
    message = obj.get(message_key)
    timestamp = obj.get(time_key)
    job_id = obj.get(job_id_key)
    agent_name = obj.get(agent_name_key)
    if type(message) is not str:
        if message is not None or fmt.message_required:
            return UNKNOWN_SHAPE
        message = ''

    language = fmt.language
    is_error = level in fmt.error_levels
    # only error lines count by logger (`livekit.log.errors`)
    logger = None
    if is_error:
        logger = obj.get(logger_key)
        if type(logger) is not str:
            logger = None
    if job_id is None and other_job_id_key is not None:
        job_id = obj.get(other_job_id_key)
    if (job_id is not None and (type(job_id) is not str or len(job_id) > MAX_TEXT)) or (
        agent_name is not None and type(agent_name) is not str
    ):
        return Line(language, level, logger, is_error, timestamp, None, None, None, None, False, None, BAD_VALUE)
    agent_name = agent_name[:MAX_TEXT] if agent_name else None

    event = room = service = rejected = None
    companion = False
    reader = fmt.messages.get(message)
    try:
        if reader is None:
            if level in fmt.other_levels:
                event = fmt.read_other(obj, message, level)
        else:
            read, companion = reader
            if not companion:
                event = read(obj)
            elif obj.get('livekit.schema') in COMPANION_SCHEMAS:
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
    return Line(
        language, level, logger, is_error, timestamp, job_id, agent_name, room, event, companion, service, rejected
    )


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
