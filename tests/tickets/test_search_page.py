"""A page of search results: the tickets of the page in the list's order, the whole list's count,
and a counting query that orders ticket ids alone, whatever the number of matches."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import AgentFactory, CustomerFactory, PaymentFactory, TicketFactory
from tickets.selectors import ticket_list, ticket_list_slice

pytestmark = pytest.mark.django_db


def test_a_slice_keeps_the_lists_order_and_counts_the_whole_list(agent, team):
    now = timezone.now()
    # Created in the reverse of their due order, so the ids alone would give the wrong order.
    tickets = [
        TicketFactory(team=team, subject=f"Klarna {n}", due_at=now + timedelta(hours=5 - n))
        for n in range(5)
    ]
    TicketFactory(team=team, subject="Something else")
    matches = ticket_list(user=agent, filters={"q": "klarna", "ordering": "due_at"})

    rows, total = ticket_list_slice(matches, start=1, stop=3)

    assert rows == [tickets[3], tickets[2]]
    assert total == 5


def test_a_slice_past_the_end_is_empty_and_counts_nothing(agent, team):
    TicketFactory(team=team, subject="Klarna")
    matches = ticket_list(user=agent, filters={"q": "klarna"})

    assert ticket_list_slice(matches, start=25, stop=50) == ([], 0)


def test_a_slices_rows_come_with_what_the_queue_shows(agent, team, django_assert_num_queries):
    customer = CustomerFactory(name="Dana Doe")
    ticket = TicketFactory(
        team=team,
        subject="Klarna",
        customer=customer,
        assignee=AgentFactory(team=team),
        payments=[PaymentFactory(customer=customer)],
    )
    ticket.tags.create(name="vip")

    (row,), _ = ticket_list_slice(ticket_list(user=agent, filters={"q": "klarna"}), start=0, stop=1)

    with django_assert_num_queries(0):
        assert row.customer.name == "Dana Doe"
        assert row.assignee.username == ticket.assignee.username
        assert row.team.name == team.name
        assert len(row.payments.all()) == 1
        assert [tag.name for tag in row.tags.all()] == ["vip"]


def test_the_search_page_counts_and_orders_ticket_ids_without_their_customers(client, agent, team):
    for n in range(3):
        TicketFactory(team=team, subject=f"Klarna {n}", assignee=agent)
    client.force_login(agent)

    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("tickets:queue"), {"q": "klarna"}).content.decode()

    (counting,) = [q["sql"] for q in captured.captured_queries if " OVER " in q["sql"]]
    # Joined before the sort, every match would fetch its customer and assignee for a page of 25.
    assert 'JOIN "payments_customer"' not in counting
    assert 'JOIN "auth_user"' not in counting
    assert page.count('class="ticket-row"') == 3
    assert "3 tickets" in page
