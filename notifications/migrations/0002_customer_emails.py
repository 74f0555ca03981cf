from django.db import migrations

KINDS = ["payment_failed", "agent_replied", "ticket_solved", "chat_transcript"]


def create_customer_emails(apps, schema_editor):
    CustomerEmail = apps.get_model("notifications", "CustomerEmail")
    for kind in KINDS:
        CustomerEmail.objects.get_or_create(kind=kind)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create_customer_emails, migrations.RunPython.noop)]
