"""The agent workspace: the queue, the ticket page and the actions on tickets.

Every view checks access first (`agent_required`, then `ticket_get_for_agent`), validates with a
form, calls one service and renders. htmx requests get the part of the page that changed;
plain form posts are redirected back, so the workspace also works without JavaScript.
"""

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets.canned import (
    canned_response_list,
    canned_response_render,
    placeholder_values,
)
from tickets.forms import (
    DEFAULT_PAGE_SIZE,
    BulkActionForm,
    EntryForm,
    MergeForm,
    QueueFilterForm,
    ReplyForm,
    TicketUpdateForm,
)
from tickets.models import Ticket
from tickets.permissions import agent_required
from tickets.selectors import (
    QueueView,
    agents_for,
    customer_summary,
    queue_view_counts,
    teams_for,
    ticket_get_for_agent,
    ticket_list,
    ticket_list_slice,
)
from tickets.services import (
    AssignmentError,
    MergeError,
    ticket_bulk_update,
    ticket_merge,
    ticket_new_activity,
    ticket_note,
    ticket_reply,
    ticket_set_tags,
    ticket_update,
)
from tickets.sla import sla_summary


@agent_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    agents_query = agents_for(user=request.user)
    agents = list(agents_query)  # one query for the filter's and the bulk bar's choices
    query = request.GET.copy()
    query.setdefault("per_page", str(DEFAULT_PAGE_SIZE))
    form = QueueFilterForm(query, teams=teams_for(user=request.user), agents=agents)
    if not form.is_valid():
        # A hand-edited or outdated bookmark: show what the form says is wrong, with no rows.
        tickets = Ticket.objects.none()
    else:
        tickets = ticket_list(user=request.user, filters=form.selector_filters())
    per_page = (form.cleaned_data.get("per_page") if form.is_valid() else None) or DEFAULT_PAGE_SIZE
    if form.is_valid() and form.cleaned_data.get("q"):
        page = _search_page(tickets, per_page, request.GET.get("page"))
    else:
        page = Paginator(tickets, per_page).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "views": [(value, label, None) for value, label in QueueView.choices],
        "current_view": request.GET.get("view", ""),
        "title": dict(QueueView.choices).get(request.GET.get("view"), _("All tickets")),
        "bulk_form": BulkActionForm(agents=agents_query),
        "agents": agents,
        "query_without_page": _query_without(request, "page"),
        # Said once per page rather than once per row.
        "ticket_url_prefix": reverse("tickets:detail", args=[0]).removesuffix("0/"),
        "select_ticket_label": _("Select ticket #"),
        "unassigned_label": _("Unassigned"),
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, "tickets/snippets/queue_results.html", context)
    return render(request, "tickets/queue.html", context)


@agent_required
@require_GET
def queue_counts(request: HttpRequest) -> HttpResponse:
    """The views menu with how many tickets each holds. Loaded after the queue and again when
    tickets change: counting is a query of its own that need not hold up the page."""
    counts = queue_view_counts(user=request.user)
    context = {
        "views": [(value, label, counts[value]) for value, label in QueueView.choices],
        "current_view": request.GET.get("view", ""),
        "counted": True,
    }
    return render(request, "tickets/snippets/queue_views.html", context)


@agent_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST, agents=agents_for(user=request.user))
    back = reverse("tickets:queue") + "?" + request.POST.get("query", "")
    if not form.is_valid():
        messages.error(request, _("Nothing was changed: %(errors)s") % {"errors": _errors(form)})
        return _back_to(request, back)
    data = form.cleaned_data
    tickets = list(ticket_list(user=request.user).filter(pk__in=data["tickets"]))
    changes = {}
    if data["action"] == "assign":
        changes["assignee"] = data["assignee"]
    elif data["action"] == "status":
        changes["status"] = data["status"]
    else:
        changes["add_tag"] = data["tag"]
    count = ticket_bulk_update(tickets=tickets, actor=request.user, **changes)
    messages.success(
        request,
        ngettext("%(count)d ticket changed.", "%(count)d tickets changed.", count)
        % {"count": count},
    )
    return _back_to(request, back)


@agent_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk, details=True)
    if request.htmx and request.GET.get("part") == "live":
        return render(
            request, "tickets/snippets/ticket_live.html", _ticket_context(request, ticket)
        )
    return render(request, "tickets/ticket.html", _ticket_context(request, ticket))


@agent_required
@require_POST
def ticket_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, reply_form=form, status=400)
    seen = form.cleaned_data.get("seen_entry_id")
    if seen is not None and not form.cleaned_data["send_anyway"]:
        news = ticket_new_activity(ticket=ticket, seen_entry_id=seen, agent=request.user)
        if news:
            # Not sent: the agent reads what changed and then sends or edits.
            form = ReplyForm(initial={**form.cleaned_data, "send_anyway": True})
            return _ticket_page(request, ticket, reply_form=form, stale_entries=news, status=409)
    ticket_reply(ticket=ticket, author=request.user, body=form.cleaned_data["body"])
    messages.success(request, _("Reply sent."))
    return _ticket_page(request, ticket)


@agent_required
@require_POST
def ticket_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = EntryForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, note_form=form, status=400)
    ticket_note(ticket=ticket, author=request.user, body=form.cleaned_data["body"])
    messages.success(request, _("Note added."))
    return _ticket_page(request, ticket)


@agent_required
@require_POST
def ticket_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = TicketUpdateForm(
        request.POST, teams=teams_for(user=request.user), agents=agents_for(user=request.user)
    )
    if not form.is_valid():
        return _ticket_page(request, ticket, update_form=form, status=400)
    data = form.cleaned_data
    try:
        ticket = ticket_update(
            ticket=ticket,
            actor=request.user,
            status=data["status"],
            priority=data["priority"],
            assignee=data["assignee"],
            team=data["team"],
        )
    except AssignmentError as error:
        form.add_error("assignee", str(error))
        return _ticket_page(request, ticket, update_form=form, status=400)
    ticket_set_tags(ticket=ticket, names=data["tags"], actor=request.user)
    messages.success(request, _("Ticket updated."))
    return _ticket_page(request, ticket)


@agent_required
@require_POST
def ticket_assign_to_me(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    # The agent sees the ticket, so it is on their team (or they are staff): always allowed.
    ticket_update(ticket=ticket, actor=request.user, assignee=request.user)
    messages.success(request, _("Assigned to you."))
    return _ticket_page(request, ticket)


@agent_required
@require_POST
def ticket_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, merge_form=form, status=400)
    target = ticket_get_for_agent(user=request.user, pk=form.cleaned_data["target"], details=False)
    if target is None:
        form.add_error("target", _("There is no ticket with that number that you can see."))
        return _ticket_page(request, ticket, merge_form=form, status=400)
    try:
        target = ticket_merge(source=ticket, target=target, actor=request.user)
    except MergeError as error:
        form.add_error("target", str(error))
        return _ticket_page(request, ticket, merge_form=form, status=400)
    messages.success(request, _("Ticket #%(source)d merged into this one.") % {"source": ticket.pk})
    url = reverse("tickets:detail", args=[target.pk])
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Location": url})
    return redirect(url)


@agent_required
@require_GET
def canned_responses(request: HttpRequest, pk: int) -> HttpResponse:
    """The canned responses matching `q`, each already filled in for this ticket."""
    ticket = _ticket_or_404(request, pk)
    responses = canned_response_list(language=get_language(), q=request.GET.get("q", ""))[:20]
    values = placeholder_values(ticket=ticket, agent=request.user)
    filled = [
        (response, canned_response_render(response=response, values=values))
        for response in responses
    ]
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(
            {"responses": [{"id": r.pk, "title": r.title, "text": text} for r, text in filled]}
        )
    return render(
        request,
        "tickets/snippets/canned_results.html",
        {"filled": filled},
    )


def _ticket_or_404(request: HttpRequest, pk: int, *, details: bool = False) -> Ticket:
    """The ticket if the agent may see it; with its timeline and payments only for a page that
    shows them (an action checks access, changes, then reloads)."""
    ticket = ticket_get_for_agent(user=request.user, pk=pk, details=details)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _ticket_context(request: HttpRequest, ticket: Ticket, **overrides) -> dict:
    teams = teams_for(user=request.user)
    agents = agents_for(user=request.user, team=ticket.team)
    timeline = list(ticket.timeline.all())
    context = {
        "ticket": ticket,
        "timeline": timeline,
        "last_entry_id": timeline[-1].pk if timeline else 0,
        # The ticket merged into may since have gone to a team this agent is not on.
        "merged_into_subject": (
            ticket.merged_into.subject
            if ticket.merged_into
            and ticket_get_for_agent(user=request.user, pk=ticket.merged_into_id, details=False)
            else ""
        ),
        "customer_summary": (
            customer_summary(user=request.user, customer=ticket.customer, excluding=ticket)
            if ticket.customer
            else None
        ),
        "reply_form": ReplyForm(initial={"seen_entry_id": timeline[-1].pk if timeline else 0}),
        "note_form": EntryForm(),
        "merge_form": MergeForm(),
        # Lazy: the live part of the page does not show it, and it may read the business hours.
        "sla": SimpleLazyObject(lambda: sla_summary(ticket)),
        "update_form": TicketUpdateForm(
            initial={
                "status": ticket.status,
                "priority": ticket.priority,
                "assignee": ticket.assignee_id,
                "team": ticket.team_id,
                "tags": " ".join(tag.name for tag in ticket.tags.all()),
            },
            teams=teams,
            agents=agents,
        ),
    }
    context.update(overrides)
    return context


def _ticket_page(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **forms
) -> HttpResponse:
    """After an action: the refreshed ticket for htmx, or a redirect to it for a plain post."""
    fresh = ticket_get_for_agent(user=request.user, pk=ticket.pk)
    if fresh is None:
        # The agent handed the ticket to a team they are not on: back to the queue.
        messages.info(request, _("The ticket is now with a team you are not on."))
        return _back_to(request, reverse("tickets:queue"))
    if status == 200 and not request.htmx:
        return redirect("tickets:detail", pk=ticket.pk)
    context = _ticket_context(request, fresh, **forms)
    template = "tickets/snippets/ticket_page.html" if request.htmx else "tickets/ticket.html"
    return render(request, template, context, status=status)


def _search_page(tickets, per_page: int, number: str | None) -> Page:
    """A page of a search and its total, counted by the query that finds the page's tickets:
    a paginator would run the search twice, once to count and once for the rows."""
    number = int(number) if number and number.isdigit() and int(number) > 0 else 1
    start = (number - 1) * per_page
    rows, total = ticket_list_slice(tickets, start=start, stop=start + per_page)
    if not rows and number > 1:  # past the end: the paginator finds the last page
        return Paginator(tickets, per_page).get_page(number)
    paginator = Paginator(tickets, per_page)
    paginator.count = total  # a cached_property, set up front
    return Page(rows, number, paginator)


def _errors(form) -> str:
    return "; ".join(str(error) for errors in form.errors.values() for error in errors)


def _back_to(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Location": url})
    return redirect(url)


def _query_without(request: HttpRequest, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()
