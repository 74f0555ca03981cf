"""Indexes for the dashboard's date ranges, measured with bench/dashboard.py (docs/benchmarks.md).

They live here, next to the queries they serve, as plain SQL that PostgreSQL and SQLite both
read; they change no model state. Partial where most rows have no date (a payment rarely fails
or recovers), so that the webhook path, which writes payments and tickets, pays little for them.
"""

from django.db import migrations

INDEXES = {
    # Recovered revenue: the payments recovered in a period, and the latest ones first.
    "dashboard_payment_recovered_idx": (
        "payments_payment (recovered_at) WHERE recovered_at IS NOT NULL"
    ),
    # Recovered revenue's share of failed payments.
    "dashboard_payment_failed_idx": "payments_payment (failed_at) WHERE failed_at IS NOT NULL",
    # Failure rate by provider and decline code: the payments created in a period.
    "dashboard_payment_created_idx": "payments_payment (created_at)",
    # Speed and the agents' median first response.
    "dashboard_ticket_first_response_idx": (
        "tickets_ticket (first_response_at) WHERE first_response_at IS NOT NULL"
    ),
    # Solved per day and resolution time (tickets.ticket_solved_at_idx also asks for the status).
    "dashboard_ticket_solved_idx": "tickets_ticket (solved_at) WHERE solved_at IS NOT NULL",
    # SLA compliance: the targets due in a period.
    "dashboard_ticket_first_response_due_idx": "tickets_ticket (first_response_due_at)",
    "dashboard_ticket_resolution_due_idx": "tickets_ticket (resolution_due_at)",
    # CSAT's response rate: the "request solved" surveys sent in a period.
    "dashboard_notification_survey_idx": (
        "notifications_notification (sent_at) WHERE kind = 'ticket_solved' AND status = 'sent'"
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_customer_emails"),
        ("payments", "0001_initial"),
        ("tickets", "0006_default_sla_policies"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {name} ON {definition}", reverse_sql=f"DROP INDEX {name}"
        )
        for name, definition in INDEXES.items()
    ]
