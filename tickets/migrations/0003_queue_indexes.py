"""Indexes for the queue at 100 000 tickets (bench/queue.py, docs/benchmarks.md).

* ``ticket_open_due_idx``: the open views (open, mine, unassigned, disputes, breaching) in
  their order, due first: a page reads its rows in index order and stops, instead of sorting
  every open ticket.
* ``ticket_solved_at_idx``: "Solved recently" and the view counts read the solved tickets of
  the last days, not every solved ticket ever.
* On PostgreSQL only, trigram indexes for the free-text search (``tickets.selectors``,
  ``_ticket_ids_matching``), which uses ``icontains``: Django writes that as
  ``UPPER(column::text) LIKE UPPER('%…%')``, so each index is on ``UPPER(column)`` with
  ``gin_trgm_ops`` from the pg_trgm extension. They cover the ticket subject, the customer's
  email and name, the payment provider id (tables of the payments app, indexed here because the
  ticket search is what reads them that way) and the bodies of the timeline entries the search
  reads. SQLite gets none of them: its search reads the tables, which is fine at its scale.

The trigram indexes are built with CONCURRENTLY, so a deploy does not block writes to the
timeline while they build; that needs a migration outside a transaction.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = (
    # name, table, indexed expression, WHERE (or "")
    ("ticket_subject_trgm", "tickets_ticket", "UPPER(subject)", ""),
    (
        "entry_body_trgm",
        "tickets_timelineentry",
        "UPPER(body)",
        # The kinds the search reads (tickets.selectors.SEARCHED_ENTRY_KINDS).
        "kind IN ('customer_message', 'agent_reply', 'internal_note')",
    ),
    ("customer_email_trgm", "payments_customer", "UPPER(email)", ""),
    ("customer_name_trgm", "payments_customer", "UPPER(name)", ""),
    ("payment_provider_id_trgm", "payments_payment", "UPPER(provider_payment_id)", ""),
)


def create_trigram_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression, where in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"USING gin ({expression} gin_trgm_ops)" + (f" WHERE {where}" if where else "")
        )


def drop_trigram_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("payments", "0001_initial"),
        ("tickets", "0002_workspace"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status__in", ["new", "open", "pending", "on_hold"])),
                fields=["due_at", "id"],
                name="ticket_open_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status__in", ["solved", "closed"])),
                fields=["solved_at"],
                name="ticket_solved_at_idx",
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
