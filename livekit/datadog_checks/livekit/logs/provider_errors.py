# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The retry and failure lines of LLM, realtime, STT and TTS calls: one line = one failed attempt.

LiveKit emits one session `error` event per failed attempt: `recoverable=True` when a retry
follows (each retry line below), `recoverable=False` when it gives up (the final failure is raised,
and the voice pipeline logs it as `Error in _llm_inference_task` / `_tts_inference_task`; the
"after N attempts" text is inside that line's traceback, never a line of its own). A
FallbackAdapter switching to its next instance is a failed attempt that the adapter recovers, and
so is a failed background probe of an instance the adapter took out (`... recovery failed`): a
probe that succeeds is a real request with its own metrics line.

Not counted, because the same attempt is already counted by another line: `all LLMs are
unavailable, retrying..` (each instance then fails on its own line), `... failed after sending
chunk` (after the adapter's switch line), `TTS failed after partial audio was already sent to the
user, skip retrying.` (the error is then raised into `_tts_inference_task`, which logs it),
`AgentSession is closing due to unrecoverable error` (after the failures that caused it).
Node logs no line of its own for a TTS or STT call that gives up, so those are not seen there.
"""

from typing import NamedTuple

from .events import LLM, REALTIME, STT, TTS, ProviderError
from .fields import text


# the kind of a line that names only the failing instance: read from its label
KIND_OF_LABEL = 'label'


class ErrorLine(NamedTuple):
    prefix: str
    contains: str
    # None: read from the traceback; KIND_OF_LABEL: from the label that starts the message
    kind: str
    recoverable: bool
    # the field holding the failing instance's label; None when the message starts with it
    label_key: str = None
    # read when `label_key` is absent
    other_label_key: str = None
    # an attempt no companion sees (no LiveKit event reports it): counted even in a companion's job
    unseen_by_companion: bool = False


PYTHON_ERROR_LINES = (
    # 1.1.6+: `failed to generate LLM completion: {error}, retrying in 2.0s`; before: no `: {error}`
    ErrorLine('failed to generate LLM completion', ', retrying in ', LLM, True, 'llm'),
    # up to 1.3.x the STT retry line names the STT under `tts`
    ErrorLine('failed to recognize speech', ', retrying in ', STT, True, 'stt', 'tts'),
    ErrorLine('failed to synthesize speech', ', retrying in ', TTS, True, 'tts'),
    # realtime sessions: `OpenAI Realtime API connection failed, retrying in 2.0s`
    ErrorLine('', ' connection failed, retrying in ', REALTIME, True),
    ErrorLine('', ', switching to next LLM', LLM, True),
    ErrorLine('', ', switching to next TTS', TTS, True),
    ErrorLine('', ', switching to next STT', STT, True),
    # the adapter's probe of an instance it took out: `<label> recovery failed[: <error>]`, `<label>
    # recovery timed out`, `<label> recovery unexpected error`; LLM, TTS and STT word it alike (one
    # pattern for the three: every pattern costs each WARNING line that matches none)
    ErrorLine('', ' recovery ', KIND_OF_LABEL, True),
    ErrorLine('Error in _llm_inference_task', '', LLM, False),
    ErrorLine('Error in _tts_inference_task', '', TTS, False),
    # 1.0 - 1.1.x name both tasks `_inference_task`: the traceback tells which node failed
    ErrorLine('Error in _inference_task', '', None, False),
    # the STT stream gives up: 1.8.x recreates it, older versions end the task
    ErrorLine('STT stream ended on an unrecoverable error', '', STT, False),
    ErrorLine('Error in _stt_task', '', STT, False),
)

NODE_ERROR_LINES = (
    ErrorLine('failed to generate LLM completion, retrying in ', '', LLM, True, 'llm'),
    # Node emits no event for a TTS or STT attempt that is retried (1.6 - 1.9), only for the give-up:
    # the companion cannot report these, the stock line is all there is
    ErrorLine('failed to recognize speech, retrying in ', '', STT, True, 'stt', unseen_by_companion=True),
    # ChunkedStream and SynthesizeStream word it differently
    ErrorLine('failed to synthesize speech, retrying in ', '', TTS, True, 'tts', unseen_by_companion=True),
    ErrorLine('failed to generate TTS completion, retrying in ', '', TTS, True, 'tts', unseen_by_companion=True),
    ErrorLine('failed, switching to next LLM', '', LLM, True, 'llm'),
    ErrorLine('timed out, switching to next LLM', '', LLM, True, 'llm'),
    ErrorLine('unexpected error, switching to next LLM', '', LLM, True, 'llm'),
    # the LLM adapter's probe of an instance it took out (Node's TTS adapter logs its own at DEBUG)
    ErrorLine('recovery failed', '', LLM, True, 'llm'),
    ErrorLine('recovery timed out', '', LLM, True, 'llm'),
    ErrorLine('recovery unexpected error', '', LLM, True, 'llm'),
    ErrorLine('STT failed, switching to next provider', '', STT, True, 'stt'),
    # 1.3 - 1.8: `deepgram.STT failed, switching to next STT` (or `unexpected error, switching ...`)
    ErrorLine('', ', switching to next STT', STT, True),
    ErrorLine('TTS failed, switching to next instance', '', TTS, True, 'tts'),
    # the LLM node rethrows the final failure after logging it
    ErrorLine('error in llm node', '', LLM, False),
)

# Node plugins label their classes `openai.LLM`, `deepgram.STT`, ...
_NODE_LABEL_CLASSES = frozenset(('LLM', 'TTS', 'STT', 'RealtimeModel', 'ChunkedStream', 'SynthesizeStream'))


def match_error_line(patterns, obj, message):
    """The `ProviderError` of a retry or failure line, else None."""
    first_line = message.partition('\n')[0]
    for pattern in patterns:
        if first_line.startswith(pattern.prefix) and pattern.contains in first_line:
            if pattern.label_key is None:
                label = first_line.partition(' ')[0] if not pattern.prefix else None
            else:
                label = text(obj, pattern.label_key)
                if label is None and pattern.other_label_key is not None:
                    label = text(obj, pattern.other_label_key)
            kind = pattern.kind
            if kind is None:
                kind = failed_node(message)
            elif kind is KIND_OF_LABEL:
                kind = kind_of_label(label)
            if kind is None:
                return None
            return ProviderError(
                kind, pattern.recoverable, None, provider_from_label(label), pattern.unseen_by_companion
            )
    return None


def failed_node(message):
    """LLM or TTS, from the traceback of a pipeline task that failed."""
    tts = max(message.rfind(', in tts_node'), message.rfind('/agents/tts/'))
    llm = max(message.rfind(', in llm_node'), message.rfind('/agents/llm/'))
    if tts == llm:
        return None
    return TTS if tts > llm else LLM


_LABEL_KINDS = (('LLM', LLM), ('TTS', TTS), ('STT', STT))


def kind_of_label(label):
    """`livekit.plugins.openai.llm.LLM` -> llm, `...cartesia.tts.TTS` -> tts; None when the class
    name does not say (a label is the class path of the instance)."""
    name = label.rpartition('.')[2] if label else ''
    for suffix, kind in _LABEL_KINDS:
        if name.endswith(suffix):
            return kind
    return None


def provider_from_label(label):
    """`livekit.plugins.openai.llm.LLM` (Python), `openai.LLM` (Node), `OpenAI` -> `openai`; else None."""
    if not label:
        return None
    parts = label.split('.')
    if len(parts) == 1:
        return label.lower() if label.isalpha() else None
    if len(parts) > 2 and parts[0] == 'livekit':
        if parts[1] == 'plugins':
            return parts[2]
        if parts[1] == 'agents' and parts[2] == 'inference':
            return 'livekit'
    elif len(parts) == 2 and parts[1] in _NODE_LABEL_CLASSES and parts[0].isidentifier() and parts[0] != '__main__':
        return parts[0]
    return None
