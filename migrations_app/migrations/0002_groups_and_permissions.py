from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Ops", "Product Manager", "On-call", "Admin"]

# What the Admin group may do in the Django admin (golive's own pages check access.ACTIONS).
ADMIN_PERMISSIONS = [
    ("migrations_app", "contact", ["add", "change", "delete", "view"]),
    ("migrations_app", "migration", ["change", "view"]),
    ("migrations_app", "phase", ["add", "change", "delete", "view"]),
    ("migrations_app", "migrationrole", ["add", "change", "delete", "view"]),
    ("migrations_app", "auditevent", ["view"]),
    ("auth", "user", ["view"]),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        # create_permissions skips an app without models_module (a StateApps stub has none): put
        # back what was there, so that called with the real app registry (tests do) it changes nothing.
        previous, app_config.models_module = getattr(app_config, "models_module", None), True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    admin = Group.objects.get(name="Admin")
    for app_label, model, verbs in ADMIN_PERMISSIONS:
        for verb in verbs:
            permission = Permission.objects.get(content_type__app_label=app_label, codename=f"{verb}_{model}")
            admin.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
