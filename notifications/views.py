"""The agent's notifications page and settings, and the two pages customers reach from an email:
unsubscribe and the satisfaction survey."""

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.emails import unsubscribe_email_from
from notifications.forms import PreferencesForm, RatingForm
from notifications.models import Channel, Notification, SatisfactionRating, Status
from notifications.services import (
    agent_email_kinds,
    agent_preferences_update,
    notifications_mark_read,
    ticket_rate,
    unsubscribe,
)
from notifications.texts import headline, rating_ticket_id
from tickets.models import Ticket
from tickets.permissions import agent_required

logger = logging.getLogger(__name__)
PAGE_SIZE = 30


@agent_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notices = Notification.objects.filter(
        user=request.user, channel=Channel.IN_APP, status=Status.SENT
    ).order_by("-created_at", "-id")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(notice, headline(notice)) for notice in page]
    return render(request, "notifications/list.html", {"page": page, "rows": rows})


@agent_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return redirect("notifications:list")


@agent_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notice: it is read, and the agent lands on its ticket."""
    notice = Notification.objects.filter(pk=pk, user=request.user, channel=Channel.IN_APP).first()
    if notice is None:
        raise Http404(_("There is no such notification."))
    notifications_mark_read(user=request.user, pks=[notice.pk])
    if notice.ticket_id:
        return redirect("tickets:detail", pk=notice.ticket_id)
    return redirect("notifications:list")


@agent_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            agent_preferences_update(
                user=request.user, email_kinds=form.cleaned_data["email_kinds"]
            )
            messages.success(request, _("Your notification settings have been saved."))
            return redirect("notifications:preferences")
        status = 400
    else:
        form = PreferencesForm(initial={"email_kinds": agent_email_kinds(request.user)})
        status = 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)


@csrf_exempt  # mail clients post here by themselves (RFC 8058 one-click unsubscribe)
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    email = unsubscribe_email_from(token)
    if email is None:
        logger.warning("Unsubscribe link with a bad signature")
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        unsubscribe(email)
        return render(request, "notifications/unsubscribe.html", {"done": True, "email": email})
    return render(request, "notifications/unsubscribe.html", {"email": email})


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The survey in the "request solved" email. The signed link is the customer's key."""
    ticket_id = rating_ticket_id(token)
    ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
    if ticket is None:
        logger.warning("Rating link with a bad signature or for a missing ticket")
        return render(request, "notifications/rate.html", {"invalid": True}, status=400)
    existing = SatisfactionRating.objects.filter(ticket=ticket).first()
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid():
            ticket_rate(ticket=ticket, **form.cleaned_data)
            return render(request, "notifications/rate.html", {"done": True, "ticket": ticket})
        status = 400
    else:
        initial = {"rating": existing.rating, "comment": existing.comment} if existing else {}
        if "rating" in request.GET and not existing:
            initial["rating"] = request.GET["rating"]
        form = RatingForm(initial=initial)
        status = 200
    return render(request, "notifications/rate.html", {"form": form, "ticket": ticket},
                  status=status)  # fmt: skip
