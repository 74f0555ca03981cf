"""The workspace pages through HTTP: who may open them, what they show, what their forms do."""

import re

import pytest
from django.urls import reverse

from payments.models import PaymentStatus
from tests.factories import AgentFactory, CustomerFactory, PaymentFactory, TicketFactory
from tickets.models import CannedResponse, EntryKind, Priority, Status, Ticket
from tickets.services import ticket_note, ticket_reply

pytestmark = pytest.mark.django_db

QUEUE = reverse("tickets:queue")
HTMX = {"HTTP_HX_REQUEST": "true"}


def detail(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.pk])


def action(name: str, ticket: Ticket) -> str:
    return reverse(f"tickets:{name}", args=[ticket.pk])


@pytest.fixture
def as_agent(client, agent):
    client.force_login(agent)
    return client


# Who may open what ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, team):
    ticket = TicketFactory(team=team)
    for url in (QUEUE, detail(ticket)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_a_customer_account_cannot_open_the_workspace(client, customer_user, team):
    ticket = TicketFactory(team=team)
    client.force_login(customer_user)
    assert client.get(QUEUE).status_code == 403
    assert client.get(detail(ticket)).status_code == 403
    assert client.post(action("note", ticket), {"body": "hi"}).status_code == 403
    assert not ticket.timeline.filter(kind=EntryKind.INTERNAL_NOTE).exists()


def test_an_agent_cannot_open_admin_pages(as_agent):
    response = as_agent.get(reverse("admin:tickets_ticket_changelist"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_ticket_of_another_team_is_not_found_and_cannot_be_changed(as_agent, outsider):
    elsewhere = TicketFactory(team=outsider.teams.get())
    assert as_agent.get(detail(elsewhere)).status_code == 404
    response = as_agent.post(action("update", elsewhere), {"status": "solved", "priority": "low"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == Status.NEW


def test_an_admin_sees_every_teams_tickets(client, admin, outsider):
    elsewhere = TicketFactory(team=outsider.teams.get(), subject="Wallet top-up failed")
    client.force_login(admin)
    assert "Wallet top-up failed" in client.get(QUEUE).content.decode()
    assert client.get(detail(elsewhere)).status_code == 200


def test_the_queue_shows_only_the_agents_teams(as_agent, team, outsider):
    TicketFactory(team=team, subject="Card declined at checkout")
    TicketFactory(team=outsider.teams.get(), subject="Wallet top-up failed")
    page = as_agent.get(QUEUE).content.decode()
    assert "Card declined at checkout" in page
    assert "Wallet top-up failed" not in page


# The queue --------------------------------------------------------------------------------


def test_a_queue_row_shows_what_an_agent_triages_by(as_agent, team, agent):
    customer = CustomerFactory(name="Dana Doe", email="dana@example.com")
    payment = PaymentFactory(
        customer=customer, amount_minor=4_900, currency="USD", status=PaymentStatus.FAILED
    )
    TicketFactory(
        team=team, customer=customer, payments=[payment], priority=Priority.URGENT, assignee=agent
    )
    page = as_agent.get(QUEUE).content.decode()
    for text in ("Dana Doe", "dana@example.com", "Payment failed", "Urgent", "New", "$49.00"):
        assert text in page
    assert agent.get_full_name() in page


def test_a_breached_ticket_shows_its_due_time_in_red(as_agent, team):
    from datetime import timedelta

    from django.utils import timezone

    TicketFactory(team=team, due_at=timezone.now() - timedelta(hours=3))
    page = as_agent.get(QUEUE).content.decode()
    assert 'class="due due-breached"' in page
    assert "3\xa0hours overdue" in page


def test_filters_and_views_live_in_the_url(as_agent, team, agent):
    TicketFactory(team=team, subject="Mine and urgent", assignee=agent, priority=Priority.URGENT)
    TicketFactory(team=team, subject="Mine but low", assignee=agent, priority=Priority.LOW)
    TicketFactory(team=team, subject="Not mine", priority=Priority.URGENT)

    page = as_agent.get(QUEUE, {"view": "mine", "priority": "urgent"}).content.decode()

    assert "Mine and urgent" in page
    assert "Mine but low" not in page
    assert "Not mine" not in page


def test_search_reaches_message_text_and_payment_ids(as_agent, team, agent):
    noted = TicketFactory(team=team, subject="First")
    ticket_note(ticket=noted, author=agent, body="the customer mentioned a blocked Revolut card")
    paid = TicketFactory(team=team, subject="Second", payments=[PaymentFactory()])
    payment_id = paid.payments.get().provider_payment_id

    assert "First" in as_agent.get(QUEUE, {"q": "revolut"}).content.decode()
    assert "Second" not in as_agent.get(QUEUE, {"q": "revolut"}).content.decode()
    assert "Second" in as_agent.get(QUEUE, {"q": payment_id}).content.decode()


def test_a_bad_filter_says_what_is_wrong_and_shows_no_rows(as_agent, team):
    TicketFactory(team=team, subject="Card declined")
    response = as_agent.get(QUEUE, {"status": "exploded"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page
    assert "Card declined" not in page


def test_an_htmx_request_gets_only_the_results(as_agent, team):
    TicketFactory(team=team, subject="Card declined")
    response = as_agent.get(QUEUE, {"view": "open"}, HTTP_HX_TARGET="queue-results", **HTMX)
    page = response.content.decode()
    assert "Card declined" in page
    assert "<html" not in page


def test_the_views_menu_counts_the_agents_tickets(as_agent, team, agent, outsider):
    TicketFactory(team=team, assignee=agent)
    TicketFactory(team=team)
    TicketFactory(team=outsider.teams.get())
    page = as_agent.get(reverse("tickets:queue_counts"), {"view": "mine"}, **HTMX)
    menu = page.content.decode()
    counts = dict(re.findall(r'href="\?view=(\w+)".*?class="count">(\d+)<', menu, re.S))
    assert counts == {
        "mine": "1", "unassigned": "1", "open": "2",
        "disputes": "0", "breaching": "0", "solved": "0",
    }  # fmt: skip
    assert 'href="?view=mine" aria-current="page"' in menu


def test_pages_of_the_queue_cost_the_same_queries_whatever_their_size(
    as_agent, team, agent, django_assert_max_num_queries, django_assert_num_queries
):
    def add_tickets(count: int) -> None:
        for _ in range(count):
            customer = CustomerFactory()
            ticket = TicketFactory(
                team=team,
                customer=customer,
                assignee=AgentFactory(team=team),
                payments=PaymentFactory.create_batch(2, customer=customer),
            )
            ticket.tags.create(name=f"tag-{ticket.pk}")

    add_tickets(5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        as_agent.get(QUEUE, {"view": "open", "per_page": 10})
    add_tickets(95)
    with django_assert_num_queries(len(small.captured_queries)):
        response = as_agent.get(QUEUE, {"view": "open", "per_page": 100})
    assert response.content.decode().count('class="ticket-row"') == 100


# The ticket page ---------------------------------------------------------------------------


def test_the_ticket_page_tells_the_payment_story(as_agent, team, agent):
    customer = CustomerFactory(name="Dana Doe", locale="el")
    payment = PaymentFactory(
        customer=customer,
        amount_minor=12_000,
        currency="EUR",
        failure_code="insufficient_funds",
        provider_payment_id="pi_3Story",
    )
    ticket = TicketFactory(team=team, customer=customer, payments=[payment])
    TicketFactory(team=team, customer=customer, subject="An older problem")
    ticket_note(ticket=ticket, author=agent, body="Called the bank")
    ticket_reply(ticket=ticket, author=agent, body="Please try another card")

    page = as_agent.get(detail(ticket)).content.decode()

    assert "The card has insufficient funds." in page
    assert "€120.00" in page
    assert "https://dashboard.stripe.com/payments/pi_3Story" in page
    assert "An older problem" in page
    assert 'class="entry entry-internal_note"' in page
    assert 'class="entry entry-agent_reply entry-public"' in page
    assert page.index("Called the bank") < page.index("Please try another card")


def test_the_ticket_page_costs_the_same_queries_however_long_its_timeline(
    as_agent, team, agent, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = TicketFactory(team=team, payments=PaymentFactory.create_batch(2))
    with CaptureQueriesContext(connection) as short:
        as_agent.get(detail(ticket))
    for n in range(20):
        ticket_note(ticket=ticket, author=AgentFactory(team=team), body=f"note {n}")
    with django_assert_num_queries(len(short.captured_queries)):
        as_agent.get(detail(ticket))


def test_replying_records_the_reply_and_refreshes_the_ticket(as_agent, team):
    ticket = TicketFactory(team=team)
    seen = 0  # the factory's ticket has an empty timeline
    response = as_agent.post(
        action("reply", ticket), {"body": "Try again now", "seen_entry_id": seen}, **HTMX
    )
    assert response.status_code == 200
    assert "Try again now" in response.content.decode()
    assert ticket.timeline.filter(kind=EntryKind.AGENT_REPLY, body="Try again now").exists()


def test_a_plain_form_post_redirects_back_to_the_ticket(as_agent, team):
    ticket = TicketFactory(team=team)
    response = as_agent.post(action("note", ticket), {"body": "no javascript here"})
    assert response.status_code == 302
    assert response["Location"] == detail(ticket)


def test_a_reply_written_on_a_stale_ticket_warns_before_it_is_sent(as_agent, team):
    ticket = TicketFactory(team=team)
    seen = 0  # the factory's ticket has an empty timeline
    colleague = AgentFactory(team=team, first_name="Bob", last_name="Builder")
    ticket_reply(ticket=ticket, author=colleague, body="I refunded it already")

    form = {"body": "Let me refund it", "seen_entry_id": seen}
    response = as_agent.post(action("reply", ticket), form, **HTMX)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Your reply was not sent" in page
    assert "I refunded it already" in page
    assert "Let me refund it" in page  # the draft is kept
    assert ticket.timeline.filter(kind=EntryKind.AGENT_REPLY).count() == 1

    response = as_agent.post(action("reply", ticket), {**form, "send_anyway": "1"}, **HTMX)
    assert response.status_code == 200
    assert ticket.timeline.filter(kind=EntryKind.AGENT_REPLY).count() == 2


def test_an_empty_reply_is_refused_with_an_error(as_agent, team):
    ticket = TicketFactory(team=team)
    response = as_agent.post(action("reply", ticket), {"body": ""}, **HTMX)
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_status_priority_assignee_team_and_tags_are_set_together(as_agent, team, agent):
    ticket = TicketFactory(team=team)
    response = as_agent.post(
        action("update", ticket),
        {
            "status": "pending",
            "priority": "high",
            "assignee": agent.pk,
            "team": team.pk,
            "tags": "vip, card-retry",
        },
        **HTMX,
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("pending", "high", agent)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["card-retry", "vip"]
    assert set(ticket.timeline.filter(author=agent).values_list("kind", flat=True)) == {
        EntryKind.STATUS_CHANGE,
        EntryKind.PRIORITY_CHANGE,
        EntryKind.ASSIGNMENT_CHANGE,
        EntryKind.TAGS_CHANGE,
    }


def test_handing_a_ticket_to_another_team_sends_the_agent_back_to_the_queue(
    as_agent, team, outsider
):
    ticket = TicketFactory(team=team)
    other_team = outsider.teams.get()
    response = as_agent.post(
        action("update", ticket),
        {"status": "open", "priority": "normal", "team": other_team.pk, "tags": ""},
        **HTMX,
    )
    assert response.status_code == 204
    assert response["HX-Location"] == QUEUE
    ticket.refresh_from_db()
    assert ticket.team == other_team


def test_assign_to_me(as_agent, team, agent):
    ticket = TicketFactory(team=team)
    as_agent.post(action("assign_to_me", ticket), **HTMX)
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_merging_from_the_ticket_page_goes_to_the_kept_ticket(as_agent, team, outsider):
    duplicate, keeper = TicketFactory(team=team), TicketFactory(team=team)
    elsewhere = TicketFactory(team=outsider.teams.get())

    refused = as_agent.post(action("merge", duplicate), {"target": elsewhere.pk}, **HTMX)
    assert refused.status_code == 400
    assert "no ticket with that number that you can see" in refused.content.decode()

    response = as_agent.post(action("merge", duplicate), {"target": keeper.pk}, **HTMX)
    assert response["HX-Location"] == detail(keeper)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == keeper


def test_bulk_actions_change_only_tickets_the_agent_may_see(as_agent, team, agent, outsider):
    mine = [TicketFactory(team=team) for _ in range(2)]
    elsewhere = TicketFactory(team=outsider.teams.get())
    ids = [t.pk for t in [*mine, elsewhere]]

    as_agent.post(
        reverse("tickets:bulk"), {"tickets": ids, "action": "status", "status": "pending"}
    )
    as_agent.post(
        reverse("tickets:bulk"), {"tickets": ids, "action": "assign", "assignee": agent.pk}
    )
    as_agent.post(reverse("tickets:bulk"), {"tickets": ids, "action": "tag", "tag": "Outage-3"})

    for ticket in mine:
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee) == ("pending", agent)
        assert list(ticket.tags.values_list("name", flat=True)) == ["outage-3"]
    elsewhere.refresh_from_db()
    assert (elsewhere.status, elsewhere.assignee, elsewhere.tags.count()) == ("new", None, 0)


def test_a_bulk_action_without_its_value_changes_nothing(as_agent, team):
    ticket = TicketFactory(team=team)
    response = as_agent.post(
        reverse("tickets:bulk"), {"tickets": [ticket.pk], "action": "status"}, follow=True
    )
    assert "Nothing was changed" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_canned_responses_come_filled_in_for_the_ticket(as_agent, team):
    customer = CustomerFactory(name="Dana")
    ticket = TicketFactory(team=team, customer=customer)
    CannedResponse.objects.create(title="Greeting", body="Hello {customer_name}!")
    CannedResponse.objects.create(title="Refunds", body="Refunds take a week.")

    page = as_agent.get(action("canned", ticket), {"q": "greet"}).content.decode()

    assert 'data-text="Hello Dana!"' in page
    assert "Refunds" not in page


# Nothing a customer writes runs in an agent's browser --------------------------------------

XSS_NAME = '<script>alert("name")</script>'
XSS_BODY = '<img src=x onerror="alert(1)"> & <svg/onload=alert(2)>'


def test_customer_text_is_shown_as_text_everywhere(as_agent, team):
    customer = CustomerFactory(name=XSS_NAME, email="x@example.com")
    ticket = TicketFactory(team=team, customer=customer, subject=f"Help {XSS_BODY}")
    from tickets.services import ticket_add_entry

    ticket_add_entry(ticket=ticket, kind=EntryKind.CUSTOMER_MESSAGE, body=XSS_BODY, public=True)
    CannedResponse.objects.create(title="Hi", body="Hi {customer_name}")

    pages = [
        as_agent.get(QUEUE).content.decode(),
        as_agent.get(detail(ticket)).content.decode(),
        as_agent.get(action("canned", ticket)).content.decode(),
    ]
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "<svg/onload" not in page
    assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pages[1]


def test_the_customer_panel_lists_only_tickets_the_agent_may_see(as_agent, team, outsider):
    customer = CustomerFactory()
    ticket = TicketFactory(team=team, customer=customer)
    TicketFactory(team=team, customer=customer, subject="Seen by my team")
    TicketFactory(team=outsider.teams.get(), customer=customer, subject="Wallet team business")

    page = as_agent.get(detail(ticket)).content.decode()

    assert "Seen by my team" in page
    assert "Wallet team business" not in page


def test_assigning_to_an_agent_of_another_team_is_refused_with_a_reason(as_agent, team, outsider):
    ticket = TicketFactory(team=team)
    response = as_agent.post(
        action("update", ticket),
        {"status": "open", "priority": "normal", "assignee": outsider.pk, "team": team.pk},
        **HTMX,
    )
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_ticket_page_offers_only_assignees_who_could_see_the_ticket(as_agent, team, outsider):
    page = as_agent.get(detail(TicketFactory(team=team))).content.decode()
    assert outsider.get_full_name() not in page


def test_far_away_dates_and_huge_ticket_numbers_are_answered_without_an_error(as_agent, team):
    for bound in ("created_before", "due_before", "created_after", "due_after"):
        for day in ("9999-12-31", "0001-01-01"):
            assert as_agent.get(QUEUE, {bound: day}).status_code == 200
    ticket = TicketFactory(team=team)
    response = as_agent.post(
        reverse("tickets:bulk"),
        {"tickets": [ticket.pk, 2**70], "action": "status", "status": "pending"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Nothing was changed" in response.content.decode()


def test_search_results_are_counted_and_paged(as_agent, team):
    for n in range(12):
        TicketFactory(team=team, subject=f"Klarna checkout {n}")
    TicketFactory(team=team, subject="Something else")

    first = as_agent.get(QUEUE, {"q": "klarna", "per_page": 10}).content.decode()
    second = as_agent.get(QUEUE, {"q": "klarna", "per_page": 10, "page": 2}).content.decode()
    beyond = as_agent.get(QUEUE, {"q": "klarna", "per_page": 10, "page": 9}).content.decode()

    assert first.count('class="ticket-row"') == 10
    assert "12 tickets" in first
    assert "Page 1 of 2" in first
    assert second.count('class="ticket-row"') == 2
    assert "Page 2 of 2" in second
    assert beyond.count('class="ticket-row"') == 2  # the last page
    assert "Something else" not in first + second


def test_without_javascript_a_hand_off_also_returns_to_the_queue(as_agent, team, outsider):
    ticket = TicketFactory(team=team)
    response = as_agent.post(
        action("update", ticket),
        {"status": "open", "priority": "normal", "team": outsider.teams.get().pk, "tags": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == QUEUE
