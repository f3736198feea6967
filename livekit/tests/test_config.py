# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A bad configuration fails the run with the option's name and what was expected."""
import pytest

from datadog_checks.livekit import LiveKitCheck

GOOD_LOGS = {'log_paths': ['/nonexistent/livekit/*.log']}


def run_with(dd_run_check, instance):
    # Some options are checked when the check is created, the rest at its first run.
    with pytest.raises(Exception) as excinfo:
        dd_run_check(LiveKitCheck('livekit', {}, [instance]), extract_message=True)
    return str(excinfo.value)


@pytest.mark.parametrize(
    'instance, expected',
    [
        pytest.param({}, ['no source configured', '`server_endpoint`', '`log_paths`'], id='no source'),
        pytest.param({'tags': ['team:voice']}, ['no source configured'], id='only tags'),
        pytest.param({**GOOD_LOGS, 'log_pathz': ['x']}, ['unknown option', '`log_pathz`'], id='unknown option'),
        pytest.param({'server_endpoint': 'localhost:6789'}, ['`server_endpoint`', 'http://'], id='endpoint not a url'),
        pytest.param({'agent_endpoint': 9464}, ['`agent_endpoint`'], id='endpoint wrong type'),
        pytest.param({**GOOD_LOGS, 'log_format': 'xml'}, ['log_format', "'auto'", "'cri'"], id='bad log_format'),
        pytest.param({**GOOD_LOGS, 'start_position': 'middle'}, ['start_position', "'end'"], id='bad start_position'),
        pytest.param({**GOOD_LOGS, 'min_conversation_turns': 0}, ['min_conversation_turns', 'greater than or equal to 1'], id='turns < 1'),
        pytest.param({**GOOD_LOGS, 'max_bytes_per_run': 'lots'}, ['max_bytes_per_run', 'integer'], id='bytes not int'),
        pytest.param({**GOOD_LOGS, 'conversation_idle_timeout': -5}, ['conversation_idle_timeout'], id='negative timeout'),
        pytest.param({'log_paths': '/var/log/agent.log'}, ['log_paths', 'tuple'], id='log_paths not a list'),
        pytest.param(
            {'server_endpoint': 'http://localhost:6789/metrics', 'min_conversation_turns': 2},
            ['`min_conversation_turns`', 'set `log_paths`'],
            id='log option without log_paths',
        ),
        pytest.param(
            {'server_endpoint': 'http://localhost:6789/metrics', 'high_cardinality_labels': ['room']},
            ['high_cardinality_labels', "'country'"],
            id='unknown high-cardinality label',
        ),
    ],
)
def test_bad_config_names_the_option(dd_run_check, instance, expected):
    message = run_with(dd_run_check, instance)
    for fragment in expected:
        assert fragment in message, message


def wrong_value_for(annotation):
    """A value of the wrong type for a field of the generated InstanceConfig."""
    text = str(annotation)
    if 'Literal' in text:
        return 'not-one-of-the-choices'
    for marker, value in (
        ('MappingProxyType', 'not-a-mapping'),
        ('tuple', 'not-a-list'),
        ('bool', 'maybe'),
        ('float', 'not-a-number'),
        ('int', 'not-a-number'),
        ('str', 12345),
    ):
        if marker in text:
            return value
    return ['an', 'object', 'was', 'expected']  # nested models (proxy, auth_token, metric_patterns)


def every_option():
    from datadog_checks.livekit.config_models.instance import InstanceConfig

    return sorted(InstanceConfig.model_fields.items())


@pytest.mark.parametrize('option, field', every_option(), ids=[name for name, _ in every_option()])
def test_every_option_rejects_a_wrong_type_by_name(dd_run_check, option, field):
    instance = {'server_endpoint': 'http://localhost:6789/metrics', **GOOD_LOGS}
    instance[option] = wrong_value_for(field.annotation)
    message = run_with(dd_run_check, instance)
    assert option in message, message
