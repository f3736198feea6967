# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Raw Prometheus metric family -> Datadog name, per source (without the `livekit.<source>.` prefix).

Keys are metric FAMILY names as the Prometheus text parser reports them: a counter whose name ends
in `_total` loses that suffix (`livekit_packet_total` -> `livekit_packet`), a counter without it
keeps its name (`livekit_packet_bytes`, `livekit_sip_calls_terminated`), and a gauge keeps its name
even when it ends in `_total` (`livekit_room_total`). Counters go out as `<name>.count`; every
histogram goes out as a distribution named `<name>`.
"""

# LiveKit server (`prometheus.port`, v1.13.5), including livekit/protocol's psrpc and webhook series.
SERVER_METRICS = {
    'livekit_room_total': 'rooms',
    'livekit_room_duration_seconds': 'room.duration',
    'livekit_participant_total': 'participants',
    'livekit_track_published_total': 'tracks.published',
    'livekit_track_subscribed_total': 'tracks.subscribed',
    'livekit_track_publish_counter': 'track.publishes',
    'livekit_track_subscribe_counter': 'track.subscribes',
    'livekit_session_join_latency_ms': 'session.join_latency',
    'livekit_session_start_time_ms': 'session.start_time',
    'livekit_session_duration_ms': 'session.duration',
    'livekit_pubsubtime_ms': 'pubsub_time',
    'livekit_peer_connection_state': 'peer_connection.states',
    'livekit_packet': 'packets',
    'livekit_packet_bytes': 'packet_bytes',
    'livekit_nack': 'nacks',
    'livekit_pli': 'plis',
    'livekit_fir': 'firs',
    'livekit_packet_loss': 'packets.lost',
    'livekit_packet_out_of_order': 'packets.out_of_order',
    'livekit_packet_loss_percent': 'packet_loss',
    'livekit_packet_out_of_order_percent': 'packet_out_of_order',
    'livekit_jitter_us': 'jitter',
    'livekit_rtt_ms': 'rtt',
    'livekit_participant_join': 'participant.joins',
    'livekit_connection_total': 'connections',
    'livekit_forward_latency': 'forward.latency',
    'livekit_forward_jitter': 'forward.jitter',
    'livekit_forward_latency_ns': 'forward.latency_distribution',
    'livekit_node_messages': 'node.messages',
    'livekit_node_service_operation': 'node.service_operations',
    'livekit_node_twirp_request_status': 'twirp.requests',
    'livekit_node_twirp_request_latency_ms': 'twirp.request_latency',
    'livekit_node_packet_total': 'node.packets',
    'livekit_quality_rating': 'quality.rating',
    'livekit_quality_score': 'quality.score',
    'livekit_datapacket_stream_dest_count': 'datapacket_stream.destinations',
    'livekit_datapacket_stream_bytes': 'datapacket_stream.size',
    'livekit_debug_ref_count': 'debug.ref_count',
    'livekit_psrpc_request_time_ms': 'psrpc.request_time',
    'livekit_psrpc_stream_send_time_ms': 'psrpc.stream.send_time',
    'livekit_psrpc_stream_receive': 'psrpc.stream.receives',
    'livekit_psrpc_stream_count': 'psrpc.streams',
    'livekit_psrpc_error': 'psrpc.errors',
    'livekit_psrpc_bytes': 'psrpc.bytes',
    'livekit_psrpc_requests_received': 'psrpc.requests.received',
    'livekit_psrpc_requests_expired': 'psrpc.requests.expired',
    'livekit_psrpc_claim': 'psrpc.claims',
    'livekit_psrpc_claim_wait_time_ms': 'psrpc.claim_wait_time',
    'livekit_webhook_dispatch': 'webhook.dispatches',
    'livekit_webhook_queue_length': 'webhook.queue_length',
}

# Python agent worker (`AgentServer(prometheus_port=...)`, livekit-agents >= 1.2; Node has none).
AGENT_METRICS = {
    'lk_agents_proc_initialize_duration_seconds': 'process.initialize_time',
    'lk_agents_active_job_count': 'jobs.active',
    'lk_agents_child_process_count': 'child_processes',
    'lk_agents_worker_load': 'worker.load',
}

# LiveKit SIP bridge (livekit/sip `pkg/stats/monitor.go`).
SIP_METRICS = {
    'livekit_sip_invite_requests_raw': 'invites.raw',
    'livekit_sip_invite_requests': 'invites',
    'livekit_sip_invite_accepted': 'invites.accepted',
    'livekit_sip_invite_error': 'invites.errors',
    'livekit_sip_calls_active': 'calls.active',
    'livekit_sip_calls_terminated': 'calls.terminated',
    'livekit_sip_packets_rtp': 'rtp_packets',
    'livekit_sip_dur_session_sec': 'session.duration',
    'livekit_sip_dur_call_sec': 'call.duration',
    'livekit_sip_dur_check_sec': 'dispatch_check.duration',
    'livekit_sip_dur_join_sec': 'join.duration',
    'livekit_sip_sdp_size_bytes': 'sdp.size',
    'livekit_sip_available': 'available',
    'livekit_node_cpu_load': 'node.cpu_load',
}

# `service` is a reserved (unified service) tag: the server's twirp and psrpc series carry a
# `service` label naming an RPC service, so it is renamed per family prefix.
SERVICE_LABEL_RENAMES = (
    ('livekit_node_twirp_', 'twirp_service'),
    ('livekit_psrpc_', 'psrpc_service'),
)

# Every series must earn its cost: Datadog bills each metric + tag combination (a distribution 5
# times). So a label becomes a tag by default only where the packaged dashboard or a monitor groups
# or filters by it, or where the sum over its values means nothing (attempts + successes) and the
# README's metric section documents the query that reads it. Every other label is dropped and its
# samples summed (`labels.py`), unless listed in the `high_cardinality_labels` option.
# The per-node tag is `endpoint` (the scraped URL, the base's `tag_by_endpoint`), not `node_id`:
# with one instance per node the two are one to one, and only `endpoint` exists on every source.
DEFAULT_LABELS = {
    'livekit_participant_join': ('state',),  # dashboard: Participant joins by state
    'livekit_track_publish_counter': ('state',),  # attempt / success / cancel
    'livekit_track_subscribe_counter': ('state',),  # attempt / success / failure / cancel
    'livekit_peer_connection_state': ('state',),  # connected / disconnected / failed
    'livekit_node_packet_total': ('type',),  # out / dropped
    'livekit_sip_calls_active': ('dir',),  # dashboard: Active calls by direction
    'livekit_sip_calls_terminated': ('reason',),  # dashboard and monitor: terminations by reason
}
