"""The dashboard pages through HTTP: who sees which figures, the filters in the URL, CSV export,
links to the tickets behind a figure, and a constant number of queries."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboards.forms import DashboardForm
from tests.dashboards.conftest import at, chat, payment, rating, survey, ticket
from tickets.models import Channel, Reason, Team

pytestmark = pytest.mark.django_db

TEAM = reverse("dashboards:team")
MINE = reverse("dashboards:mine")
THE_WEEK = {"period": "custom", "start": "2026-11-10", "end": "2026-11-16"}


def headline(response, name: str) -> str:
    return next(figure.value for figure in response.context["headlines"] if figure.name == name)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# Who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [TEAM, MINE])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", [TEAM, MINE])
def test_a_customer_account_is_refused(client, week, url):
    client.force_login(week.customer_user)

    assert client.get(url).status_code == 403


def test_an_agent_may_not_see_the_whole_desk(client, week):
    client.force_login(week.alice)

    response = client.get(TEAM, THE_WEEK)

    assert response.status_code == 403


def test_an_agent_sees_their_own_figures(client, week):
    client.force_login(week.alice)

    response = client.get(MINE, THE_WEEK)

    assert response.status_code == 200
    assert headline(response, "opened") == "2"  # t1 and t2, hers
    assert [row[0].text for row in response.context["tables"]["agents"].rows] == ["Alice Lind"]
    # Her CSV holds only her figures too.
    agents_csv = client.get(MINE, {**THE_WEEK, "format": "csv", "table": "agents"})
    assert [row[0] for row in csv_rows(agents_csv)[1:]] == ["Alice Lind"]


def test_an_admin_sees_everything(client, week):
    client.force_login(week.admin)

    response = client.get(TEAM, THE_WEEK)

    assert response.status_code == 200
    assert headline(response, "opened") == "5"
    assert headline(response, "recovered") == "€30.00 · $49.00"
    body = response.content.decode()
    assert 'data-chart="volume"' in body
    assert 'id="dashboard-charts"' in body


def test_the_nav_links_admins_to_the_dashboard_and_agents_to_their_figures(client, week):
    client.force_login(week.admin)
    assert f'href="{TEAM}"' in client.get(MINE).content.decode()
    client.force_login(week.alice)
    page = client.get(MINE).content.decode()
    assert f'href="{MINE}"' in page
    assert f'href="{TEAM}"' not in page


# Period and filters ------------------------------------------------------------------------


@pytest.mark.parametrize(("choice", "days"), [("today", 1), ("7d", 7), ("30d", 30), ("", 7)])
def test_the_period_picker_ends_today(choice, days):
    from django.utils import timezone

    form = DashboardForm({"period": choice}, teams=Team.objects.all())
    assert form.is_valid()

    period = form.chosen_period()
    assert (period.length, period.last_day) == (days, timezone.localdate())
    assert period.previous().last_day == period.first_day - timedelta(days=1)
    assert period.previous().length == days


def test_the_picker_shows_the_default_period(client, week):
    client.force_login(week.admin)

    page = client.get(TEAM).content.decode()

    assert '<option value="7d" selected>' in page


@pytest.mark.parametrize(
    "query",
    [
        {"period": "custom"},
        {"period": "custom", "start": "2026-11-16", "end": "2026-11-10"},
        {"period": "custom", "start": "2024-01-01", "end": "2026-11-10"},
        {"period": "yesterday"},
    ],
)
def test_a_wrong_period_is_answered_with_the_error(client, week, query):
    client.force_login(week.admin)

    response = client.get(TEAM, query)

    assert response.status_code == 400
    assert "headlines" not in response.context


def test_the_filters_come_from_the_url(client, week):
    client.force_login(week.admin)

    wallets = client.get(TEAM, {**THE_WEEK, "team": week.wallets.pk})
    disputes = client.get(TEAM, {**THE_WEEK, "reason": Reason.DISPUTE})
    email = client.get(TEAM, {**THE_WEEK, "channel": Channel.EMAIL})
    paypal = client.get(TEAM, {**THE_WEEK, "provider": "paypal"})

    assert headline(wallets, "opened") == "1"
    assert headline(disputes, "opened") == "1"
    assert headline(email, "opened") == "1"
    assert headline(paypal, "failure_rate") == "100%"


def test_an_htmx_request_gets_the_figures_without_the_page(client, week):
    client.force_login(week.admin)

    response = client.get(TEAM, THE_WEEK, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-body")

    body = response.content.decode()
    assert 'id="dashboard-charts"' in body
    assert "<html" not in body


def test_figures_are_formatted_for_the_language(client, week):
    client.force_login(week.admin)
    client.cookies["django_language"] = "el"

    response = client.get(TEAM, THE_WEEK, HTTP_ACCEPT_LANGUAGE="el")

    assert headline(response, "recovered") == "30,00\xa0€ · 49,00\xa0$"
    assert headline(response, "failure_rate") == "83,3%"


# Links and CSV -----------------------------------------------------------------------------


def test_a_figure_links_to_the_tickets_behind_it(client, week):
    client.force_login(week.admin)
    tables = client.get(TEAM, THE_WEEK).context["tables"]
    thirteenth = next(row for row in tables["volume"].rows if row[0].value == "2026-11-13")
    by_channel = {row[0].text: row for row in tables["channels"].rows}

    opened = client.get(thirteenth[1].url)
    webhook = client.get(by_channel["Webhook"][1].url)
    solved_by_alice = client.get(tables["agents"].rows[0][1].url)

    assert {t.pk for t in opened.context["page"].object_list} == {week.t4.pk}
    assert {t.pk for t in webhook.context["page"].object_list} == {week.t1.pk, week.t4.pk}
    assert {t.pk for t in solved_by_alice.context["page"].object_list} == {
        week.t1.pk,
        week.t2.pk,
    }


def test_each_csv_holds_its_table(client, week):
    client.force_login(week.admin)
    tables = client.get(TEAM, THE_WEEK).context["tables"]

    for name, table in tables.items():
        response = client.get(TEAM, {**THE_WEEK, "format": "csv", "table": name})

        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        header, *rows = csv_rows(response)
        assert header == (table.csv_columns or table.columns)
        assert rows == [
            ["" if c.value is None else str(c.value) for c in row] for row in table.rows
        ]
        assert len(rows) == len(table.rows)


def test_every_table_is_exported_and_an_unknown_one_is_refused_before_any_figure(
    client, week, django_assert_max_num_queries
):
    client.force_login(week.admin)
    from dashboards.tables import TABLE_NAMES

    assert set(client.get(TEAM, THE_WEEK).context["tables"]) == TABLE_NAMES
    with django_assert_max_num_queries(4):  # the session and the user, no figure
        response = client.get(TEAM, {**THE_WEEK, "format": "csv", "table": "nope"})
    assert response.status_code == 404


def test_the_csv_gives_plain_values(client, week):
    client.force_login(week.admin)

    speed = csv_rows(client.get(TEAM, {**THE_WEEK, "format": "csv", "table": "speed"}))
    recovered = csv_rows(client.get(TEAM, {**THE_WEEK, "format": "csv", "table": "recovered"}))

    assert speed[0][1] == "Median (minutes)"
    assert speed[1][1:3] == ["30.0", "54.0"]  # first response: median, 90th percentile
    assert recovered[1:] == [
        ["EUR", "1", "30.00", "0", "0.00"],
        ["USD", "1", "49.00", "1", "15.00"],
    ]


def test_an_unknown_table_is_not_found(client, week):
    client.force_login(week.admin)

    assert client.get(TEAM, {"format": "csv", "table": "nope"}).status_code == 404


# Queries -----------------------------------------------------------------------------------


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(TEAM, THE_WEEK).status_code == 200
    return len(queries)


def more_of_everything(week, times: int) -> None:
    for n in range(times):
        made = ticket(
            created=at(11 + n % 5, 9), team=week.cards if n % 2 else week.wallets,
            reason=Reason.PAYMENT_FAILED, channel=Channel.CHAT, assignee=week.bob,
            first_response_at=at(11 + n % 5, 10), solved_at=at(11 + n % 5, 12), status="solved",
        )  # fmt: skip
        failed = payment(created=at(11, 8), tickets=[made], failed_at=at(11, 8),
                         failure_code=f"code_{n % 4}", succeeded_at=at(12, 8),
                         recovered_at=at(12, 8), recovered_amount_minor=100, status="succeeded",
                         currency=("USD", "EUR", "GBP")[n % 3])  # fmt: skip
        chat(ticket=made, customer=failed.customer, created=at(11, 9), assignee=week.alice,
             rating=1 + n % 5, comment=f"comment {n}", rated=at(11, 10))  # fmt: skip
        survey(made, at(12, 13))
        rating(made, 1 + n % 5, f"survey {n}", at(12, 14))


def test_the_page_costs_the_same_queries_whatever_the_data(client, week):
    client.force_login(week.admin)
    small = count_queries(client)

    more_of_everything(week, 30)
    large = count_queries(client)

    assert large == small
    assert small < 40, small
