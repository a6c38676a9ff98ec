from django.contrib.auth.management import create_permissions
from django.db import migrations

# What the Admin group may do with checklists in the Django admin (golive's own pages check access.ACTIONS).
ADMIN_PERMISSIONS = [
    ("checklisttemplate", ["change", "view"]),
    ("templateitem", ["change", "view"]),
    ("phasegate", ["change", "view"]),
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("checklists")
    # create_permissions skips an app without models_module (a StateApps stub has none): put
    # back what was there, so that called with the real app registry (tests do) it changes nothing.
    previous, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name="Admin")
    for model, verbs in ADMIN_PERMISSIONS:
        for verb in verbs:
            admin.permissions.add(Permission.objects.get(content_type__app_label="checklists", codename=f"{verb}_{model}"))


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0001_initial"),
        ("migrations_app", "0002_groups_and_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
