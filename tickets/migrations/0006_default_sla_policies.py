"""A starting SLA policy per priority, and disputes' existing due times kept as their deadline.

The policies count in business hours: a team without business hours is open around the clock,
so for it they are calendar time. Admins change them in the admin (SLA policies).
"""

from django.db import migrations

HOUR, DAY = 60, 24 * 60

# priority: (name, first response, resolution), in minutes
DEFAULT_POLICIES = {
    "urgent": ("Urgent", 1 * HOUR, 8 * HOUR),
    "high": ("High", 4 * HOUR, 1 * DAY),
    "normal": ("Normal", 8 * HOUR, 3 * DAY),
    "low": ("Low", 1 * DAY, 7 * DAY),
}


def create_default_policies(apps, schema_editor):
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    for priority, (name, first_response, resolution) in DEFAULT_POLICIES.items():
        if SlaPolicy.objects.filter(priority=priority, reason="", team=None, active=True).exists():
            continue
        SlaPolicy.objects.create(
            name=name,
            priority=priority,
            first_response_minutes=first_response,
            resolution_minutes=resolution,
            business_hours=True,
        )
    # Before SLA policies a dispute's due_at was its evidence deadline less the margin: keep it
    # as the deadline its resolution is due by, so a later recount does not lose it.
    Ticket = apps.get_model("tickets", "Ticket")
    disputes = Ticket.objects.filter(
        reason="dispute", due_at__isnull=False, resolution_deadline__isnull=True
    )
    for ticket in disputes.only("pk", "due_at").iterator():
        Ticket.objects.filter(pk=ticket.pk).update(
            resolution_deadline=ticket.due_at, resolution_due_at=ticket.due_at
        )


def remove_default_policies(apps, schema_editor):
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    for priority, (name, first_response, resolution) in DEFAULT_POLICIES.items():
        SlaPolicy.objects.filter(
            name=name,
            priority=priority,
            reason="",
            team=None,
            first_response_minutes=first_response,
            resolution_minutes=resolution,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_sla_policies"),
    ]

    operations = [
        migrations.RunPython(create_default_policies, remove_default_policies),
    ]
