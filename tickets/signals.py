"""Signals other apps hear without the tickets app knowing them."""

from django.dispatch import Signal

# An agent replied on a ticket from the workspace (not from a chat): `entry`, the timeline entry.
# Sent inside the reply's transaction.
agent_replied = Signal()
