# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)

# Hand-written hooks of the generated config models: rules that a JSON schema cannot express.

SOURCE_OPTIONS = ('server_endpoint', 'agent_endpoint', 'sip_endpoint', 'agent_health_endpoint', 'log_paths')
LOG_ONLY_OPTIONS = (
    'log_format',
    'start_position',
    'max_bytes_per_run',
    'min_conversation_turns',
    'conversation_idle_timeout',
    'max_open_conversations',
)
# Keys the Agent itself may put into an instance besides the documented options.
AGENT_KEYS = frozenset({'name', 'check_tag_cardinality', 'ad_identifiers', 'cel_selector'})


def initialize_instance(values, **kwargs):
    from .instance import InstanceConfig

    known = set(InstanceConfig.model_fields) | AGENT_KEYS
    unknown = sorted(key for key in values if key not in known)
    if unknown:
        raise ValueError(
            'unknown option(s) {}: expected one of the options documented in conf.yaml.example'.format(
                ', '.join('`{}`'.format(key) for key in unknown)
            )
        )
    if not any(values.get(option) for option in SOURCE_OPTIONS):
        raise ValueError(
            'no source configured: set at least one of {}'.format(', '.join('`{}`'.format(o) for o in SOURCE_OPTIONS))
        )
    if not values.get('log_paths'):
        stray = [option for option in LOG_ONLY_OPTIONS if option in values]
        if stray:
            raise ValueError(
                '{} only apply to agent log files: set `log_paths` too, or remove them'.format(
                    ', '.join('`{}`'.format(o) for o in stray)
                )
            )
    if values.get('prices') is not None:
        from ..pricing.table import validated

        validated(values['prices'], '`prices`')
    for option in SOURCE_OPTIONS[:4]:
        url = values.get(option)
        if url is not None and not (isinstance(url, str) and url.startswith(('http://', 'https://'))):
            raise ValueError('`{}` must be an http:// or https:// URL, got {!r}'.format(option, url))
    return values
