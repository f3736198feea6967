# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Line framing: raw JSON lines, Docker json-file entries and Kubernetes CRI lines.

The Docker and CRI lines are written as their producers write them: Docker's json-file driver
encodes `{"log": ..., "stream": ..., "time": ...}` with Go's encoder (HTML characters escaped) and cuts
lines longer than 16 KiB into entries without the trailing newline; the CRI runtime writes
`<RFC3339Nano> <stream> <P|F> <payload>` and cuts long lines into `P` parts. The fuzz tests mix good
lines with every kind of bad one and check that each good line comes out exactly and each bad one
is counted.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datadog_checks.livekit.logs.framing import Framer, detect_format, parse_cri, parse_docker
from datadog_checks.livekit.logs.tailer import LogTailer, TailerOptions

PY_LINE = (
    b'{"message": "LLM metrics", "level": "INFO", "name": "livekit.agents", "model_name": "gemini-2.0-flash", '
    b'"model_provider": "google", "ttft": 0.12, "prompt_tokens": 1000, "prompt_cached_tokens": 0, '
    b'"completion_tokens": 19, "job_id": "AJ_49b9c7b9bb69", "timestamp": "2026-11-24T18:49:41.895996+00:00"}'
)
NODE_LINE = b'{"level":30,"time":1795546181895,"pid":20382,"msg":"LLM metrics","ttftMs":120,"promptTokens":1000}'
DOCKER_CHUNK = 16 * 1024  # Docker's json-file driver cuts a line into entries of at most 16 KiB


def docker_entries(payload, stream='stderr', chunk=DOCKER_CHUNK, time='2026-11-24T18:49:41.895996123Z'):
    """Physical json-file lines for one logical line, as dockerd writes them (Go escapes <, >, &)."""
    text = payload.decode()
    parts = [text[i : i + chunk] for i in range(0, len(text), chunk)] or ['']
    out = []
    for i, part in enumerate(parts):
        log = part + ('\n' if i == len(parts) - 1 else '')
        encoded = json.dumps({'log': log, 'stream': stream, 'time': time}, separators=(',', ':'))
        out.append(encoded.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026').encode())
    return out


def cri_lines(payload, stream='stdout', chunk=DOCKER_CHUNK, time=b'2026-11-24T18:49:41.895996123Z'):
    parts = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] or [b'']
    return [
        b'%s %s %s %s' % (time, stream.encode(), b'F' if i == len(parts) - 1 else b'P', part)
        for i, part in enumerate(parts)
    ]


def frame(framer, lines):
    rejected = {}
    return framer.frame(lines, 0, rejected), rejected


class TestDetect:
    def test_each_format_from_its_first_line(self):
        assert detect_format(PY_LINE) == 'json'
        assert detect_format(NODE_LINE) == 'json'
        assert detect_format(docker_entries(PY_LINE)[0]) == 'docker'
        assert detect_format(cri_lines(PY_LINE)[0]) == 'cri'
        assert detect_format(b'2026-11-24T18:49:41+01:00 stderr P {"msg"') == 'cri'
        assert detect_format(b'not a log line') == 'json'  # the parsers count it as unparsed

    def test_auto_detects_per_file_and_keeps_it(self):
        framer = Framer('auto')
        lines, rejected = frame(framer, [b'', docker_entries(PY_LINE)[0], b'{"log":"x\\n","stream":"stdout"}'])
        assert framer.format == 'docker'
        assert lines == [PY_LINE, b'x']
        assert rejected == {}

    def test_configured_format_is_not_detected(self):
        framer = Framer('json')
        lines, _ = frame(framer, docker_entries(PY_LINE))
        assert lines == docker_entries(PY_LINE)  # taken as they are: the parser decides


class TestDocker:
    def test_a_real_entry_is_unwrapped(self):
        line = PY_LINE.replace(b'gemini', b'<gemini & co>')
        entries = docker_entries(line)
        assert b'\\u003c' in entries[0]
        assert frame(Framer('docker'), entries)[0] == [line]

    def test_a_long_line_cut_by_docker_is_joined(self):
        line = PY_LINE[:-1] + b', "pad": "' + b'x' * 40000 + b'"}'
        entries = docker_entries(line)
        assert len(entries) == 3
        assert frame(Framer('docker'), entries)[0] == [line]

    def test_streams_are_joined_separately(self):
        out = docker_entries(b'o' * 20, 'stdout', chunk=8)
        err = docker_entries(b'e' * 20, 'stderr', chunk=8)
        interleaved = [out[0], err[0], out[1], err[1], err[2], out[2]]
        assert frame(Framer('docker'), interleaved)[0] == [b'e' * 20, b'o' * 20]

    @pytest.mark.parametrize(
        'line',
        [
            b'{"log":"truncated',
            b'[1, 2]',
            b'"a string"',
            b'{"stream":"stdout","time":"x"}',
            b'{"log":3,"stream":"stdout"}',
            b'{"log":"x\\n","stream":"stdin"}',
            b'{"log":"\\ud800\\n","stream":"stdout"}',
            b'{"log":"\xff\\n","stream":"stdout"}',
            b'{"log":"a\x00b\\n","stream":"stdout"}',
        ],
    )
    def test_a_bad_entry_is_counted_and_the_lines_around_it_kept(self, line):
        lines, rejected = frame(Framer('docker'), [docker_entries(b'before')[0], line, docker_entries(b'after')[0]])
        assert lines == [b'before', b'after']
        assert rejected == {'framing': 1}

    def test_a_bad_entry_between_parts_does_not_break_the_line(self):
        parts = docker_entries(b'abcdef', chunk=2)
        lines, rejected = frame(Framer('docker'), [parts[0], b'garbage', parts[1], parts[2]])
        assert lines == [b'abcdef']
        assert rejected == {'framing': 1}


class TestCri:
    def test_p_parts_are_joined_up_to_f(self):
        lines = cri_lines(PY_LINE, chunk=40)
        assert lines[0].split(b' ')[2] == b'P' and lines[-1].split(b' ')[2] == b'F'
        assert frame(Framer('cri'), lines)[0] == [PY_LINE]

    def test_streams_are_joined_separately(self):
        out = cri_lines(b'o' * 10, 'stdout', chunk=4)
        err = cri_lines(b'e' * 10, 'stderr', chunk=4)
        assert frame(Framer('cri'), [out[0], err[0], err[1], out[1], out[2], err[2]])[0] == [b'o' * 10, b'e' * 10]

    def test_payload_is_kept_byte_for_byte(self):
        payload = b'{"msg": "two  spaces", "bad": "\xff\xfe", "nul": "\x00"}'
        assert frame(Framer('cri'), cri_lines(payload))[0] == [payload]

    def test_extra_tags_after_a_colon(self):
        assert parse_cri(b'2026-11-24T18:49:41Z stdout F:x hello') == ('stdout', b'hello', True)
        assert parse_cri(b'2026-11-24T18:49:41Z stdout P:x hel') == ('stdout', b'hel', False)

    def test_an_empty_line(self):
        assert parse_cri(b'2026-11-24T18:49:41Z stdout F') == ('stdout', b'', True)
        assert frame(Framer('cri'), [b'2026-11-24T18:49:41Z stdout F '])[0] == []

    @pytest.mark.parametrize(
        'line', [b'2026-11-24T18:49:41Z', b'2026-11-24T18:49:41Z stdout', b'ts stdin F x', b'ts stdout X x']
    )
    def test_a_bad_line_is_counted(self, line):
        lines, rejected = frame(Framer('cri'), [cri_lines(b'a')[0], line, cri_lines(b'b')[0]])
        assert lines == [b'a', b'b']
        assert rejected == {'framing': 1}


class TestPending:
    def test_a_line_too_long_to_join_is_counted_once_without_holding_it(self):
        framer = Framer('cri', max_line=100)
        parts = cri_lines(b'x' * 1000, chunk=30)
        lines, rejected = frame(framer, parts[:-1])
        assert lines == [] and rejected == {}
        assert framer.pending['stdout'].parts == []  # nothing kept past the limit
        lines, rejected = frame(framer, parts[-1:] + cri_lines(b'next'))
        assert lines == [b'next']
        assert rejected == {'oversized': 1}

    def test_flush_delivers_what_never_ended(self):
        framer = Framer('cri')
        frame(framer, cri_lines(b'abcdef', chunk=4)[:1])
        rejected = {}
        assert framer.flush(rejected) == [b'abcd']
        assert framer.pending == {} and rejected == {}

    def test_drop_counts_what_never_ended(self):
        framer = Framer('docker')
        frame(framer, docker_entries(b'abcdef', chunk=4)[:1])
        rejected = {}
        framer.drop(rejected)
        assert rejected == {'unfinished': 1}

    def test_state_keeps_offsets_not_bytes_and_rebuilds(self):
        framer = Framer('cri')
        before = cri_lines(b'done', 'stderr')
        parts = cri_lines(b'abcdef', 'stdout', chunk=2)
        framer.frame(before, 0, {})
        framer.frame(parts[:2], 500, {})
        state = framer.dump()
        assert state == {'format': 'cri', 'pending': {'stdout': [500, False]}}
        assert b'ab' not in json.dumps(state).encode()

        restored = Framer('auto')
        restored.restore(json.loads(json.dumps(state)))
        assert restored.begin_rebuild() == 500
        # What the tailer reads again from there: an older ended line of the stream, then the parts.
        restored.rebuild(cri_lines(b'old', 'stdout') + parts[:2])
        restored.end_rebuild()
        assert frame(restored, parts[2:])[0] == [b'abcdef']

    @pytest.mark.parametrize(
        'state',
        [
            {'format': 'xml', 'pending': {}},
            {'format': 'cri', 'pending': {'stdin': [0, False]}},
            {'format': 'cri', 'pending': {'stdout': [-1, False]}},
            {'format': 'cri', 'pending': {'stdout': [0, 'no']}},
        ],
    )
    def test_a_bad_state_is_refused(self, state):
        with pytest.raises(ValueError):
            Framer('auto').restore(state)


# Fuzzing through the tailer, on files.

MAX_LINE = 2000
GOOD = st.binary(min_size=1, max_size=300).map(lambda b: b'{"m": ' + b.replace(b'\n', b' ') + b'}')
# Bad lines by framing, with the counter they must land in (None: an empty line, dropped silently).
BAD = {
    'docker': [
        (b'{"log":"cut in the midd', 'framing'),
        (b'{"log":"a\x00b\\n","stream":"stdout"}', 'framing'),
        (b'{"log":"\xc3\x28\\n","stream":"stdout"}', 'framing'),
        (b'42', 'framing'),
        (b'{"log":null,"stream":"stdout"}', 'framing'),
        (b'{"log":"x\\n"}', 'framing'),
        (b'{"log":"' + b'h' * (MAX_LINE + 10) + b'\\n","stream":"stdout"}', 'oversized'),
    ],
    'cri': [
        (b'2026-11-24T18:49:41.1Z stdout', 'framing'),
        (b'2026-11-24T18:49:41.1Z stdin F x', 'framing'),
        (b'2026-11-24T18:49:41.1Z stdout Q x', 'framing'),
        (b'2026-11-24T18:49:41.1Z stdout F ' + b'h' * MAX_LINE, 'oversized'),
        (b'2026-11-24T18:49:41.1Z stderr F ', None),
    ],
    # Raw JSON lines are not validated by the framing: invalid UTF-8, NUL bytes or truncated JSON go
    # to the parsers, which count them as unparsed.
    'json': [
        (b'\xff\xfe{"m"', 'deliver'),
        (b'{"m": "a\x00b"}', 'deliver'),
        (b'{"m": "trunc', 'deliver'),
        (b'[1]', 'deliver'),
    ],
}


def encode(fmt, payload, stream, chunk):
    if fmt == 'docker':
        return docker_entries(payload, stream, chunk)
    if fmt == 'cri':
        return cri_lines(payload, stream, chunk)
    return [payload]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(['json', 'docker', 'cri']),
    items=st.lists(
        st.one_of(
            st.tuples(st.just('good'), GOOD, st.sampled_from(['stdout', 'stderr']), st.integers(1, 120)),
            st.tuples(st.just('bad'), st.integers(0, 6)),
            st.tuples(st.just('huge'), st.integers(MAX_LINE + 1, 3 * MAX_LINE)),
            st.tuples(st.just('blank')),
        ),
        max_size=40,
    ),
    budget=st.sampled_from([1024, 4096, 1 << 20]),
    unfinished=st.booleans(),
)
def test_fuzz_framing_through_the_tailer(tmp_path_factory, fmt, items, budget, unfinished):
    """Good lines come out exactly and in order, each bad line is counted once, nothing raises,
    whatever the budget per run and with a restart after every run."""
    path = tmp_path_factory.mktemp('fuzz') / 'agent.log'
    # The file starts with a good line, from which `auto` detects its framing.
    physical, expected, counted = encode(fmt, PY_LINE, 'stderr', 100), [PY_LINE], {}
    for item in items:
        kind = item[0]
        if kind == 'good':
            _, payload, stream, chunk = item
            if fmt == 'docker':
                payload = payload.decode(errors='replace').encode()  # dockerd writes valid UTF-8 only
            physical += encode(fmt, payload, stream, chunk)
            expected.append(payload)
        elif kind == 'huge':
            # Over the limit: one raw line, or parts joined by the framing; skipped and counted once.
            physical += encode(fmt, b'{"big": "' + b'z' * item[1] + b'"}', 'stdout', 700)
            counted['oversized'] = counted.get('oversized', 0) + 1
        elif kind == 'blank':
            physical.append(b'')
        else:
            line, reason = BAD[fmt][item[1] % len(BAD[fmt])]
            physical.append(line)
            if reason == 'deliver':
                expected.append(line)
            elif reason:
                counted[reason] = counted.get(reason, 0) + 1
    data = b''.join(line + b'\n' for line in physical)
    tail = b''
    if unfinished and fmt != 'json':
        data += encode(fmt, b'never ends ' * 20, 'stdout', 50)[0] + b'\n'  # a part whose line never ends
    elif unfinished:
        tail = b'{"no newline yet"'
        data += tail
    path.write_bytes(data)

    state, got, rejected = None, [], {}
    for _ in range(len(data) // 1000 + 10):
        options = TailerOptions(start_position='beginning', max_bytes_per_run=budget, max_line_bytes=MAX_LINE)
        tailer = LogTailer([str(path)], options)
        tailer.restore(state)
        for batch in tailer.poll():
            got.extend(batch.lines)
        for reason, n in tailer.stats.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + n
        assert tailer.errors == []
        state = json.loads(json.dumps(tailer.dump_state()))
        if tailer.stats.backlog_bytes == len(tail):
            break
    assert got == expected
    assert rejected == counted


def test_parsers_return_none_on_garbage():
    for garbage in (b'', b'\x00\x00', b'{', b'\xff' * 10, b'{"log": 1}', b'a b c d', b'ts stdout F'[:5]):
        assert parse_docker(garbage) is None
        assert parse_cri(garbage) is None
