"""The three announcement templates as editable rows, so Admins find and change them in the admin."""

from django.db import migrations

DEFAULTS = {
    "maintenance": (
        "Scheduled maintenance: {migration} on {date}",
        "We will carry out planned maintenance on {migration} on {date}, between {window}.\n"
        "Expected duration: {duration}. The service may be briefly unavailable or slower than usual.\n"
        "Questions: {contact}.",
    ),
    "complete": (
        "Maintenance complete: {migration}",
        "The planned work on {migration} finished on {date}. Everything is running normally.\n"
        "If you notice anything unusual, contact {contact}.",
    ),
    "incident": (
        "Service disruption: {migration}",
        "Since {date} some requests to {migration} may fail or be slow. We are working on it and "
        "will post updates on the status page. Expected duration: {duration}.\nQuestions: {contact}.",
    ),
}


def create(apps, schema_editor):
    Template = apps.get_model("incidents", "AnnouncementTemplate")
    for kind, (subject, body) in DEFAULTS.items():
        Template.objects.get_or_create(kind=kind, defaults={"subject": subject, "body": body})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_incident_lifecycle_channels_announcements")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
