import logging

# One logger for every record: the check and the Datadog log pipeline key on this name.
logger = logging.getLogger("livekit.plugins.datadog")
