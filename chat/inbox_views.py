"""The agents' chat inbox in the workspace: the list of live conversations, and the panels an
agent opens beside it (the chat itself, and its ticket with the customer and their payments).

The conversation itself travels over the agent's chat socket (chat/consumers.py); these views
render what is around it. Access is checked as in the rest of the workspace: `agent_required`,
then the conversation only when its ticket is one the agent may see (404 otherwise).
"""

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chat.models import AgentStatus, Conversation, ConversationStatus
from chat.selectors import (
    InboxTab,
    agents_with_status,
    conversation_get_for_agent,
    inbox_counts,
    inbox_list,
)
from payments.models import Payment
from tickets.permissions import agent_required
from tickets.selectors import customer_summary, teams_for, ticket_get_for_agent


@agent_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    tab = _tab(request)
    counts = inbox_counts(user=request.user)
    context = {
        "tab": tab,
        "tabs": [(value, label, counts[value]) for value, label in InboxTab.choices],
        "conversations": inbox_list(user=request.user, tab=tab),
        "agents": _with_status_labels(agents_with_status(user=request.user)),
        "a_minute_ago": timezone.now() - timedelta(minutes=1),
    }
    if request.htmx and request.htmx.target == "chat-inbox":
        return render(request, "chat/snippets/inbox_list.html", context)
    context["status_labels"] = ConversationStatus.choices
    return render(request, "chat/inbox.html", context)


@agent_required
@require_GET
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The number of waiting chats beside the top bar's link, reloaded when the inbox changes."""
    waiting = inbox_counts(user=request.user)[InboxTab.WAITING]
    return render(request, "chat/snippets/inbox_count.html", {"waiting": waiting, "counted": True})


@agent_required
@require_GET
def conversation_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """A chat's panel for the inbox page: its header, actions and composer (the messages come
    over the socket), beside its ticket. Outside htmx: the inbox, with this chat open."""
    conversation = _conversation_or_404(request, pk)
    if not request.htmx:
        return redirect(reverse("chat_inbox:inbox") + f"?open={conversation.pk}")
    context = {
        **_ticket_context(request, conversation),
        "agents": _with_status_labels(
            agents_with_status(user=request.user, team=conversation.team).exclude(
                pk=request.user.pk
            )
        ),
        "teams": teams_for(user=request.user),
        "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
    }
    return render(request, "chat/snippets/inbox_panel.html", context)


@agent_required
@require_GET
def ticket_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket beside a chat, reloaded when the ticket or its payments change."""
    conversation = _conversation_or_404(request, pk)
    return render(
        request, "chat/snippets/inbox_ticket.html", _ticket_context(request, conversation)
    )


def _tab(request: HttpRequest) -> InboxTab:
    value = request.GET.get("tab", "")
    return InboxTab(value) if value in InboxTab.values else InboxTab.WAITING


def _with_status_labels(agents) -> list:
    agents = list(agents)
    for agent in agents:
        agent.chat_status_label = AgentStatus(agent.chat_status).label
    return agents


def _conversation_or_404(request: HttpRequest, pk: int) -> Conversation:
    conversation = conversation_get_for_agent(user=request.user, pk=pk)
    if conversation is None:
        raise Http404(_("No such chat."))
    return conversation


def _ticket_context(request: HttpRequest, conversation: Conversation) -> dict:
    ticket = ticket_get_for_agent(user=request.user, pk=conversation.ticket_id, details=False)
    if ticket is None:  # the ticket left the agent's teams since the conversation was read
        raise Http404(_("No such chat."))
    payments = (
        Payment.objects.filter(tickets=ticket)
        .prefetch_related("disputes", "refunds")
        .order_by("pk")
    )
    return {
        "conversation": conversation,
        "ticket": ticket,
        "payments": payments,
        "customer_summary": (
            customer_summary(user=request.user, customer=ticket.customer, excluding=ticket)
            if ticket.customer
            else None
        ),
    }
