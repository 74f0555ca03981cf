"""Live chat: a customer's conversations from the checkout page, each on a ticket.

Every message is stored before anyone hears of it and carries the conversation's next sequence
number, so a client that reconnects asks for what came after the last number it has.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.models import Customer
from tickets.models import Team, Ticket, TimelineEntry


class ConversationStatus(models.TextChoices):
    # Answered by a knowledge-base article; nobody asked for a person (yet).
    ANSWERED = "answered", _("Answered automatically")
    WAITING = "waiting", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    # Nobody was online: the customer left a message and gets the answer by email.
    OFFLINE = "offline", _("Left a message")
    CLOSED = "closed", _("Closed")


LIVE_STATUSES = (ConversationStatus.ANSWERED, ConversationStatus.WAITING, ConversationStatus.ACTIVE)


class Conversation(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="conversations")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="conversations")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    status = models.CharField(
        max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.WAITING
    )
    # Verified: the merchant signed the customer's identity. Otherwise the customer only typed
    # an email address, and proves they own the conversation with its access key.
    verified = models.BooleanField(default=False)
    access_key_hash = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=10, default="en")
    order_reference = models.CharField(max_length=100, blank=True)
    # The last sequence number given to a message, and how far each side has received and read.
    last_seq = models.PositiveIntegerField(default=0)
    customer_delivered_seq = models.PositiveIntegerField(default=0)
    customer_read_seq = models.PositiveIntegerField(default=0)
    agent_delivered_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)
    attachment_count = models.PositiveIntegerField(default=0)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "team"]),
            models.Index(fields=["assignee", "status"]),
            # The dashboard's chats of today (accepted, rated, closed) and latest comments.
            models.Index(fields=["accepted_at"], name="conversation_accepted_idx"),
            models.Index(fields=["rated_at"], name="conversation_rated_idx"),
            models.Index(fields=["closed_at"], name="conversation_closed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="conversation_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Chat {self.pk} on #{self.ticket_id}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class Sender(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Automatic answer")
    SYSTEM = "system", _("System")


class Attachment(models.Model):
    """An image or PDF sent in a chat; its type was read from its content, not its name."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="chat/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(max_length=10, choices=Sender.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class FaqArticle(models.Model):
    """A knowledge-base article: the chat answers a customer's first message with the best match."""

    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    title = models.CharField(max_length=200)
    body = models.TextField()
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Other words customers use for this, separated by spaces."),
    )
    published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "title"]
        verbose_name = _("FAQ article")

    def __str__(self) -> str:
        return self.title


class ChatMessage(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The sending client's own id for the message: a resend after a dropped connection is
    # recognised and not stored twice.
    client_id = models.CharField(max_length=64, blank=True)
    body = models.TextField(blank=True)
    card_number_masked = models.BooleanField(default=False)
    attachment = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    article = models.ForeignKey(
        FaqArticle, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    entry = models.OneToOneField(
        TimelineEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_message",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "seq"]
        indexes = [
            # A first message sent again before its client heard of the conversation it
            # started is found by its client id alone (chat.services).
            models.Index(
                fields=["client_id"], condition=~Q(client_id=""), name="message_client_id_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="message_unique_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class AgentStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentPresence(models.Model):
    """The chat status an agent chose. They count as online only while one of their workspace
    tabs is connected too (AgentConnection)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_presence"
    )
    status = models.CharField(
        max_length=10, choices=AgentStatus.choices, default=AgentStatus.ONLINE
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} {self.status}"


class AgentConnection(models.Model):
    """One open chat socket of an agent, refreshed while it lives; a process that dies without
    saying goodbye leaves rows that expire (chat.presence.CONNECTION_TTL_S)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_connections"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.channel_name
