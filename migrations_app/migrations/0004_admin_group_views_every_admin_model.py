"""The Admin group may open every model the Django admin shows (issue 14): the seeded `admin`
account is staff without being a superuser, and without a view permission the admin answers 403
for probes, KPIs, guardrails, rollback hooks, channels and the rest. Read-only on purpose: the admin
is a break-glass tool and golive's own pages are where these settings change. The one write added
is deleting a login lockout (axes), which is how an Admin unlocks an account."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ONLY = {
    "auth": ["group"],
    "axes": ["accessattempt", "accessfailurelog", "accesslog"],
    "inbound": ["inboundwebhook", "inbounddelivery"],
    "incidents": [
        "announcement",
        "announcementtemplate",
        "incident",
        "notificationchannel",
        "statuspage",
        "statussubscriber",
    ],
    "monitoring": ["alert", "guardrail", "kpi", "probe", "proberesult"],
    "rollout": [
        "apitoken",
        "clientinstance",
        "outboxmessage",
        "rollback",
        "rollbackhook",
        "rolloutplan",
        "trafficchange",
    ],
}
EXTRA = [("axes", "delete_accessattempt")]


def grant(apps, schema_editor=None):
    """Idempotent: adding a permission the group holds changes nothing."""
    for app_label in VIEW_ONLY:
        app_config = apps.get_app_config(app_label)
        # create_permissions skips an app without models_module (a StateApps stub has none): put
        # back what was there, so that called with the real app registry (tests do) it changes nothing.
        previous, app_config.models_module = getattr(app_config, "models_module", None), True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name="Admin")
    wanted = [(app, f"view_{model}") for app, models in VIEW_ONLY.items() for model in models] + EXTRA
    for app_label, codename in wanted:
        admin.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0003_worker_heartbeat"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("axes", "0010_accessattemptexpiration"),
        ("inbound", "0001_inbound_webhooks"),
        ("incidents", "0005_merge_outbound_guard_and_status_history"),
        ("monitoring", "0005_merge_cohorts_and_ingest_batches"),
        ("rollout", "0004_merge_exposure_and_hook_url_guard"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
