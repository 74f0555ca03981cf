"""Paydesk's settings, with the channel layer bench/chat.py runs it on (BENCH_LAYER: pubsub, as
in production, or core or memory to compare)."""

import os

from bench.common import channel_layer_settings
from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import REDIS_URL

CHANNEL_LAYERS = channel_layer_settings(os.environ.get("BENCH_LAYER", "pubsub"), REDIS_URL)
