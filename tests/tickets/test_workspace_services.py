"""Tags, merges, bulk changes, canned responses and reply emails: the services behind the
workspace's buttons."""

import pytest
from django.core import mail

from payments.models import Dispute, Provider
from tests.factories import AgentFactory, CustomerFactory, PaymentFactory, TicketFactory
from tickets.canned import (
    PLACEHOLDERS,
    canned_response_list,
    canned_response_render,
    placeholder_values,
)
from tickets.models import CannedResponse, EntryKind, Status, TimelineEntry
from tickets.selectors import QueueView, queue_view_counts, ticket_list
from tickets.services import (
    ERROR_MERGE_MERGED,
    ERROR_MERGE_SELF,
    MergeError,
    ticket_add_entry,
    ticket_bulk_update,
    ticket_merge,
    ticket_new_activity,
    ticket_note,
    ticket_reply,
    ticket_set_tags,
    ticket_update,
)

pytestmark = pytest.mark.django_db


def test_setting_tags_records_what_was_added_and_removed(agent, team):
    ticket = TicketFactory(team=team)
    ticket_set_tags(ticket=ticket, names=["vip", "chargeback"], actor=agent)
    ticket_set_tags(ticket=ticket, names=["vip", "retry"], actor=agent)
    ticket_set_tags(ticket=ticket, names=["retry", "vip"], actor=agent)  # no change: no entry

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["retry", "vip"]
    entries = list(ticket.timeline.filter(kind=EntryKind.TAGS_CHANGE))
    assert [entry.data for entry in entries] == [
        {"added": ["chargeback", "vip"], "removed": []},
        {"added": ["retry"], "removed": ["chargeback"]},
    ]
    assert all(entry.author == agent for entry in entries)


def test_merging_moves_the_timeline_payments_and_tags_and_closes_the_duplicate(agent, team):
    payment = PaymentFactory()
    duplicate = TicketFactory(team=team, payments=[payment])
    ticket_note(ticket=duplicate, author=agent, body="customer called about this")
    ticket_set_tags(ticket=duplicate, names=["phone"], actor=agent)
    keeper = TicketFactory(team=team, customer=duplicate.customer)

    ticket_merge(source=duplicate, target=keeper, actor=agent)

    duplicate.refresh_from_db()
    assert duplicate.merged_into == keeper
    assert duplicate.status == Status.CLOSED
    assert keeper.timeline.filter(body="customer called about this").exists()
    assert list(keeper.payments.all()) == [payment]
    assert list(keeper.tags.values_list("name", flat=True)) == ["phone"]
    assert duplicate.timeline.get(kind=EntryKind.MERGE).data == {"into": keeper.pk}
    assert keeper.timeline.get(kind=EntryKind.MERGE).author == agent


def test_a_provider_event_on_both_tickets_stays_once_on_each_after_a_merge(agent, team):
    from payments.models import WebhookEvent

    event = WebhookEvent.objects.create(
        provider=Provider.STRIPE, event_id="evt_1", event_type="charge.failed", body=b"{}"
    )
    duplicate, keeper = TicketFactory(team=team), TicketFactory(team=team)
    for ticket in (duplicate, keeper):
        ticket_add_entry(ticket=ticket, kind=EntryKind.PAYMENT_EVENT, webhook_event=event)

    ticket_merge(source=duplicate, target=keeper, actor=agent)

    assert TimelineEntry.objects.filter(ticket=keeper, webhook_event=event).count() == 1


def test_a_ticket_cannot_be_merged_into_itself_or_twice(agent, team):
    first, second, third = (TicketFactory(team=team) for _ in range(3))
    with pytest.raises(MergeError, match=str(ERROR_MERGE_SELF)):
        ticket_merge(source=first, target=first, actor=agent)
    ticket_merge(source=first, target=second, actor=agent)
    with pytest.raises(MergeError, match=str(ERROR_MERGE_MERGED)):
        ticket_merge(source=third, target=first, actor=agent)


def test_a_bulk_change_lands_on_every_ticket_timeline(agent, team):
    tickets = [TicketFactory(team=team) for _ in range(3)]

    ticket_bulk_update(tickets=tickets, actor=agent, assignee=agent, add_tag="wave-1")

    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee == agent
        assert list(ticket.tags.values_list("name", flat=True)) == ["wave-1"]
        assert ticket.timeline.filter(kind=EntryKind.ASSIGNMENT_CHANGE, author=agent).exists()


def test_a_reply_is_emailed_to_the_customer_in_their_language(
    agent, team, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(email="maria@example.gr", locale="el")
    ticket = TicketFactory(team=team, customer=customer, subject="Η πληρωμή απέτυχε")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=agent, body="Δοκιμάστε ξανά <b>σήμερα</b>.")

    (message,) = mail.outbox
    assert message.to == ["maria@example.gr"]
    assert f"[#{ticket.pk}]" in message.subject
    assert "Δοκιμάστε ξανά <b>σήμερα</b>." in message.body
    html = message.alternatives[0][0]
    assert "&lt;b&gt;σήμερα&lt;/b&gt;" in html
    assert 'lang="el"' in html


def test_a_reply_is_not_emailed_before_the_transaction_commits(
    agent, team, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(team=team)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_reply(ticket=ticket, author=agent, body="Hello")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_a_note_is_never_emailed(agent, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_note(ticket=TicketFactory(team=team), author=agent, body="internal")
    assert mail.outbox == []


def test_new_activity_is_what_others_added_since_the_agent_last_looked(agent, team):
    ticket = TicketFactory(team=team)
    seen = ticket_note(ticket=ticket, author=agent, body="looking into it").pk
    assert ticket_new_activity(ticket=ticket, seen_entry_id=seen, agent=agent) == []

    ticket_note(ticket=ticket, author=agent, body="my own note does not count")
    colleague = AgentFactory(team=team)
    reply = ticket_reply(ticket=ticket, author=colleague, body="I already answered")
    note = ticket_note(ticket=ticket, author=colleague, body="Do not refund: fraud")

    assert ticket_new_activity(ticket=ticket, seen_entry_id=seen, agent=agent) == [reply, note]


def test_a_canned_response_is_filled_in_for_the_ticket(agent, team):
    agent.first_name, agent.last_name = "Alice", "Agent"
    customer = CustomerFactory(name="Dana Doe")
    payment = PaymentFactory(
        customer=customer, amount_minor=12_345, currency="EUR", failure_code="insufficient_funds"
    )
    ticket = TicketFactory(team=team, customer=customer, payments=[payment])
    response = CannedResponse.objects.create(
        title="Declined",
        body="Hi {customer_name}, your {amount} payment failed: {decline_reason} "
        "Ref {payment_id}, ticket {ticket_id}. {unknown} — {agent_name}",
    )

    values = placeholder_values(ticket=ticket, agent=agent)
    text = canned_response_render(response=response, values=values)

    assert text == (
        f"Hi Dana Doe, your €123.45 payment failed: The card has insufficient funds. "
        f"Ref {payment.provider_payment_id}, ticket {ticket.pk}. {{unknown}} — Alice Agent"
    )
    assert values.keys() == PLACEHOLDERS.keys()  # every placeholder the admin lists has a value


def test_canned_responses_are_searched_and_kept_to_the_agents_language():
    CannedResponse.objects.create(title="Try another card", body="…")
    CannedResponse.objects.create(title="Δοκιμάστε άλλη κάρτα", body="…", language="el")
    CannedResponse.objects.create(title="Refund timing", body="Refunds take 5-10 days")

    english = canned_response_list(language="en", q="card")
    greek = canned_response_list(language="el", q="")

    assert [r.title for r in english] == ["Try another card"]
    assert {r.title for r in greek} == {"Try another card", "Δοκιμάστε άλλη κάρτα", "Refund timing"}
    assert [r.title for r in canned_response_list(language="en", q="10 days")] == ["Refund timing"]


def test_queue_views_hold_the_right_tickets(agent, team):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    mine = TicketFactory(team=team, assignee=agent, due_at=now + timedelta(days=2))
    unassigned_breaching = TicketFactory(team=team, due_at=now + timedelta(minutes=10))
    overdue = TicketFactory(team=team, due_at=now - timedelta(hours=1))
    dispute = TicketFactory(team=team, reason="dispute", assignee=AgentFactory(team=team))
    solved = TicketFactory(team=team)
    ticket_update(ticket=solved, actor=agent, status=Status.SOLVED)
    TicketFactory()  # another team's: never counted

    def view(name):
        return set(ticket_list(user=agent, filters={"view": name}))

    assert view(QueueView.MINE) == {mine}
    assert view(QueueView.UNASSIGNED) == {unassigned_breaching, overdue}
    assert view(QueueView.OPEN) == {mine, unassigned_breaching, overdue, dispute}
    assert view(QueueView.DISPUTES) == {dispute}
    assert view(QueueView.BREACHING) == {unassigned_breaching, overdue}
    assert view(QueueView.SOLVED) == {solved}
    assert queue_view_counts(user=agent) == {
        "mine": 1, "unassigned": 2, "open": 4, "disputes": 1, "breaching": 2, "solved": 1,
    }  # fmt: skip
    # Breaching soon: the most urgent first.
    assert list(ticket_list(user=agent, filters={"view": QueueView.BREACHING})) == [
        overdue,
        unassigned_breaching,
    ]


def test_search_finds_tickets_by_what_was_written_on_them(agent, team):
    ticket = TicketFactory(team=team, subject="Payment failed")
    ticket_note(ticket=ticket, author=agent, body="Customer says the bank blocked Kraków purchases")
    TicketFactory(team=team, subject="Payment failed")

    assert list(ticket_list(user=agent, filters={"q": "kraków"})) == [ticket]


def test_tickets_are_filtered_by_tag_and_dates(agent, team):
    from datetime import timedelta

    from django.utils import timezone

    tagged = TicketFactory(team=team)
    ticket_set_tags(ticket=tagged, names=["vip"], actor=agent)
    later = TicketFactory(team=team, due_at=timezone.now() + timedelta(days=3))

    assert list(ticket_list(user=agent, filters={"tag": "vip"})) == [tagged]
    due_from = timezone.now() + timedelta(days=1)
    assert list(ticket_list(user=agent, filters={"due_after": due_from})) == [later]
    assert set(ticket_list(user=agent, filters={"created_after": timezone.now()})) == set()


def test_a_dispute_deadline_is_shown_with_its_payment(agent, team):
    payment = PaymentFactory()
    Dispute.objects.create(provider=Provider.STRIPE, provider_dispute_id="dp_1", payment=payment)
    ticket = TicketFactory(team=team, payments=[payment])
    from tickets.selectors import ticket_get_for_agent

    loaded = ticket_get_for_agent(user=agent, pk=ticket.pk)
    assert [d.provider_dispute_id for d in loaded.payments.all()[0].disputes.all()] == ["dp_1"]


def test_a_ticket_is_only_assigned_to_someone_who_can_see_it(agent, team, outsider, admin):
    from tickets.services import ERROR_ASSIGNEE_NOT_ON_TEAM, AssignmentError

    ticket = TicketFactory(team=team)
    with pytest.raises(AssignmentError, match=str(ERROR_ASSIGNEE_NOT_ON_TEAM)):
        ticket_update(ticket=ticket, actor=agent, assignee=outsider)
    ticket_update(ticket=ticket, actor=agent, assignee=admin)  # staff see every ticket
    # Handed to the outsider's team in the same change, the outsider may have it.
    ticket_update(ticket=ticket, actor=agent, assignee=outsider, team=outsider.teams.get())
    ticket.refresh_from_db()
    assert ticket.assignee == outsider


def test_a_bulk_assignment_skips_tickets_the_assignee_could_not_see(agent, team, outsider):
    mine = TicketFactory(team=team)
    theirs = TicketFactory(team=outsider.teams.get())

    changed = ticket_bulk_update(tickets=[mine, theirs], actor=agent, assignee=outsider)

    assert changed == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.assignee, theirs.assignee) == (None, outsider)


def test_merging_a_ticket_that_others_were_merged_into_leaves_no_chain(agent, team):
    first, second, third = (TicketFactory(team=team) for _ in range(3))
    ticket_merge(source=first, target=second, actor=agent)
    ticket_merge(source=second, target=third, actor=agent)

    first.refresh_from_db()
    assert first.merged_into == third


def test_the_reply_email_subject_is_plain_text_on_one_line(
    agent, team, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(email="o'brien@example.com")
    ticket = TicketFactory(team=team, customer=customer, subject='Refund & "chargeback"\n<help>')

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=agent, body="On it")

    (message,) = mail.outbox
    assert message.subject == f'Re: [#{ticket.pk}] Refund & "chargeback" <help>'
