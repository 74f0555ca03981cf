"""The SLA on the ticket page and the SLA policies in the admin, through HTTP."""

import re
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import SlaPolicyFactory, TeamFactory, TicketFactory
from tickets.models import BusinessHours, Holiday, Priority, Reason, SlaPolicy, Status
from tickets.services import ticket_create, ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_agent(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def normal_policy():
    SlaPolicy.objects.all().delete()
    return SlaPolicyFactory(name="Normal", first_response_minutes=60, resolution_minutes=480)


def sla_panel(page) -> str:
    html = page.content.decode()
    match = re.search(r'<section class="panel sla-panel".*?</section>', html, re.S)
    assert match, "the ticket page has no SLA panel"
    return match.group(0)


def target(panel: str, name: str) -> tuple[str, str, str]:
    """A target's state, its words as an agent reads them, and its HTML."""
    match = re.search(rf'<dd class="sla-(\w+)" data-sla-target="{name}">(.*?)</dd>', panel, re.S)
    assert match, f"no {name} target in the SLA panel"
    html = match.group(2)
    words = " ".join(re.sub(r"<[^>]+>", " ", html).replace("\xa0", " ").split())
    return match.group(1), words.replace(" · ", " - "), html


def detail(ticket) -> str:
    return reverse("tickets:detail", args=[ticket.pk])


def test_the_ticket_page_shows_each_target_and_the_time_left(as_agent, team, normal_policy):
    ticket = ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED, team=team)

    panel = sla_panel(as_agent.get(detail(ticket)))

    assert "Normal policy, in calendar time" in panel
    state, words, _ = target(panel, "first_response")
    assert state == "running"
    assert words.startswith("Running - in 59 minutes due ")
    assert target(panel, "resolution")[1].startswith("Running - in 7 hours due ")


def test_a_first_response_in_time_shows_as_met(as_agent, team, agent, normal_policy):
    ticket = ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED, team=team)
    ticket_reply(ticket=ticket, author=agent, body="Could you try another card?")

    panel = sla_panel(as_agent.get(detail(ticket)))

    state, words, _ = target(panel, "first_response")
    assert state == "met"
    assert words.startswith("Met due ")
    assert ", done " in words
    assert target(panel, "resolution")[0] == "running"


def test_a_missed_target_shows_as_breached_and_overdue(as_agent, team, normal_policy):
    now = timezone.now()
    ticket = TicketFactory(
        team=team,
        sla_policy=normal_policy,
        first_response_due_at=now - timedelta(hours=2, minutes=1),
        resolution_due_at=now + timedelta(hours=5, minutes=1),
        due_at=now - timedelta(hours=2, minutes=1),
    )

    panel = sla_panel(as_agent.get(detail(ticket)))

    state, words, html = target(panel, "first_response")
    assert state == "breached"
    assert words.startswith("Breached - 2 hours overdue")
    assert 'class="due due-breached"' in html


def test_a_ticket_waiting_on_the_customer_shows_its_targets_paused_with_the_time_left(
    as_agent, team, agent, normal_policy
):
    now = timezone.now()
    ticket = TicketFactory(
        team=team,
        status=Status.PENDING,
        sla_policy=normal_policy,
        first_response_at=now - timedelta(hours=3),
        first_response_due_at=now - timedelta(hours=2),
        first_response_breached=False,
        resolution_due_at=now + timedelta(hours=2),
        sla_paused_at=now - timedelta(hours=1),
    )

    panel = sla_panel(as_agent.get(detail(ticket)))

    state, words, _ = target(panel, "resolution")
    assert (state, words) == ("paused", "Paused - 3 hours left, waiting on the customer")
    assert target(panel, "first_response")[0] == "met"


def test_a_business_hours_policy_names_the_teams_time_zone(as_agent, agent, normal_policy):
    team = agent.teams.get()
    team.time_zone = "Europe/Athens"
    team.save()
    BusinessHours.objects.create(team=team, weekday=0, opens=time(9), closes=time(17))
    SlaPolicy.objects.update(business_hours=True)
    ticket = ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED, team=team)

    panel = sla_panel(as_agent.get(detail(ticket)))

    assert "Normal policy, in business hours (Europe/Athens)" in panel


def test_a_ticket_without_a_policy_says_so(as_agent, team, normal_policy):
    SlaPolicy.objects.all().delete()
    ticket = ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED, team=team)

    assert "No SLA policy applies to this ticket." in sla_panel(as_agent.get(detail(ticket)))


def test_the_sla_panel_costs_the_same_queries_however_many_hours_and_holidays(
    as_agent, agent, normal_policy, django_assert_num_queries
):
    SlaPolicy.objects.update(business_hours=True)
    team = agent.teams.get()
    BusinessHours.objects.create(team=team, weekday=0, opens=time(9), closes=time(17))
    Holiday.objects.create(team=team, date=date(2030, 1, 1))
    now = timezone.now()
    ticket = TicketFactory(
        team=team,
        status=Status.PENDING,
        sla_policy=normal_policy,
        first_response_due_at=now + timedelta(hours=1),
        resolution_due_at=now + timedelta(days=3),
        sla_paused_at=now,
    )
    with CaptureQueriesContext(connection) as few:
        as_agent.get(detail(ticket))
    for weekday in range(1, 7):
        BusinessHours.objects.create(team=team, weekday=weekday, opens=time(8), closes=time(18))
    for day in range(2, 30):
        Holiday.objects.create(team=team, date=date(2030, 1, day))

    with django_assert_num_queries(len(few.captured_queries)):
        as_agent.get(detail(ticket))


# The admin ----------------------------------------------------------------------------------


def test_staff_manage_sla_policies_in_the_admin(admin_client, normal_policy):
    team_policy = SlaPolicyFactory(
        name="Card team disputes",
        priority=Priority.URGENT,
        reason=Reason.DISPUTE,
        team=TeamFactory(name="Card team"),
        first_response_minutes=15,
    )
    changelist = reverse("admin:tickets_slapolicy_changelist")

    page = admin_client.get(changelist).content.decode()

    assert page.index("Card team disputes") < page.index("Normal")  # urgent first
    assert admin_client.get(reverse("admin:tickets_slapolicy_add")).status_code == 200
    change = reverse("admin:tickets_slapolicy_change", args=[team_policy.pk])
    assert admin_client.get(change).status_code == 200


def test_targets_can_be_changed_from_the_list_of_policies(admin_client, normal_policy):
    response = admin_client.post(
        reverse("admin:tickets_slapolicy_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": normal_policy.pk,
            "form-0-first_response_minutes": "30",
            "form-0-resolution_minutes": "240",
            "form-0-business_hours": "on",
            "form-0-active": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    normal_policy.refresh_from_db()
    assert (normal_policy.first_response_minutes, normal_policy.resolution_minutes) == (30, 240)
    assert normal_policy.business_hours


def test_a_second_active_policy_for_the_same_match_is_refused(admin_client, normal_policy):
    response = admin_client.post(
        reverse("admin:tickets_slapolicy_add"),
        {
            "name": "Another normal",
            "priority": Priority.NORMAL,
            "reason": "",
            "team": "",
            "first_response_minutes": "5",
            "resolution_minutes": "10",
            "active": "on",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert SlaPolicy.objects.filter(priority=Priority.NORMAL).count() == 1


def test_agents_cannot_open_the_sla_policies(as_agent):
    response = as_agent.get(reverse("admin:tickets_slapolicy_changelist"))

    assert response.status_code == 302
    assert "login" in response["Location"]
