"""Reads of the agents' chat inbox: which conversations an agent may see, each with what its row
shows, and which colleagues are there to take a chat.

An agent sees a conversation when they may see its ticket (tickets.selectors decides that, and
nothing here decides it again). A page of rows costs the same few queries however many rows it
has: what a row shows of its messages comes from subqueries, not from a query per row.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from chat.models import (
    LIVE_STATUSES,
    AgentPresence,
    AgentStatus,
    ChatMessage,
    Conversation,
    ConversationStatus,
    Sender,
)
from chat.presence import live_connections
from tickets.models import Team
from tickets.selectors import agents_for, tickets_visible_to

INBOX_LIMIT = 100


class InboxTab(TextChoices):
    WAITING = "waiting", _("Waiting")
    MINE = "mine", _("Mine")
    ALL = "all", _("All")


def conversations_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Conversation]:
    """Every conversation on a ticket `user` may see: their teams' for agents, all for staff."""
    return Conversation.objects.filter(ticket__in=tickets_visible_to(user).values("pk"))


def conversation_get_for_agent(
    *, user: AbstractBaseUser | AnonymousUser, pk: int
) -> Conversation | None:
    """The conversation, or None when it does not exist or `user` may not see its ticket."""
    return (
        conversations_visible_to(user)
        .select_related("customer", "assignee", "team", "ticket")
        .filter(pk=pk)
        .first()
    )


def _tab_condition(tab: InboxTab, user: AbstractBaseUser | AnonymousUser) -> Q:
    if tab == InboxTab.WAITING:
        return Q(status=ConversationStatus.WAITING)
    if tab == InboxTab.MINE:
        return Q(status__in=LIVE_STATUSES, assignee_id=user.pk)
    return Q(status__in=LIVE_STATUSES)


def inbox_list(
    *, user: AbstractBaseUser | AnonymousUser, tab: InboxTab = InboxTab.WAITING
) -> QuerySet[Conversation]:
    """The live conversations of a tab, the customer who waits longest first.

    Each carries `last_body`, `last_sender` and `last_attachment` (its newest message but the
    system's),
    `unread` (customer messages after what agents have read) and `waiting_since` (when the
    customer wrote the first message no agent has answered yet; None when none waits)."""
    messages = ChatMessage.objects.filter(conversation=OuterRef("pk"))
    # The preview: what a person or the knowledge base said, not the system's notices.
    newest = messages.exclude(sender=Sender.SYSTEM).order_by("-seq")
    unread = (
        messages.filter(sender=Sender.CUSTOMER, seq__gt=OuterRef("agent_read_seq"))
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    last_answer = messages.filter(sender=Sender.AGENT).order_by("-seq").values("seq")[:1]
    return (
        conversations_visible_to(user)
        .filter(_tab_condition(tab, user))
        .select_related("customer", "assignee", "team")
        .annotate(
            last_body=Subquery(newest.values("body")[:1]),
            last_sender=Subquery(newest.values("sender")[:1]),
            last_attachment=Subquery(newest.values("attachment__name")[:1]),
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
            answered_seq=Coalesce(Subquery(last_answer), 0),
        )
        .annotate(
            waiting_since=Subquery(
                messages.filter(sender=Sender.CUSTOMER, seq__gt=OuterRef("answered_seq"))
                .order_by("seq")
                .values("created_at")[:1]
            )
        )
        .order_by(
            F("waiting_since").asc(nulls_last=True),
            F("last_message_at").desc(nulls_last=True),
            "-pk",
        )[:INBOX_LIMIT]
    )


def inbox_counts(*, user: AbstractBaseUser | AnonymousUser) -> dict[str, int]:
    """How many live conversations each tab holds for `user`, in one query."""
    return (
        conversations_visible_to(user)
        .filter(status__in=LIVE_STATUSES)
        .aggregate(
            **{
                tab.value: Count("pk", filter=_tab_condition(tab, user))
                for tab in (InboxTab.WAITING, InboxTab.MINE)
            },
            all=Count("pk"),
        )
    )


def agents_with_status(
    *, user: AbstractBaseUser | AnonymousUser, team: Team | None = None
) -> QuerySet:
    """The agents `user` may hand a chat to (tickets.selectors.agents_for), each with
    `chat_status`: what they chose while a tab of theirs is connected, else offline."""
    connected = Exists(live_connections().filter(user=OuterRef("pk")))
    chosen = Subquery(AgentPresence.objects.filter(user=OuterRef("pk")).values("status")[:1])
    return agents_for(user=user, team=team).annotate(
        chat_status=Case(
            When(connected, then=Coalesce(chosen, Value(AgentStatus.ONLINE))),
            default=Value(AgentStatus.OFFLINE),
            output_field=CharField(),
        )
    )
