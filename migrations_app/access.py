"""Who may do what. Every view asks here first; the README's permission table mirrors ACTIONS."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from migrations_app.models import Migration, MigrationRole, MigrationRoleName


class Group:
    OPS = "Ops"
    PRODUCT_MANAGER = "Product Manager"
    ON_CALL = "On-call"
    ADMIN = "Admin"

    ALL = (OPS, PRODUCT_MANAGER, ON_CALL, ADMIN)


# action -> (groups allowed, what a refused person is told they cannot do)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "view": (frozenset(Group.ALL), "view go-live migrations"),
    "manage_migration": (frozenset({Group.OPS, Group.ADMIN}), "create migrations or change their status"),
    "tick_items": (frozenset({Group.OPS, Group.ON_CALL, Group.ADMIN}), "update checklist items"),
    "change_traffic": (frozenset({Group.OPS, Group.ADMIN}), "change traffic levels"),
    "override_gate": (frozenset({Group.ADMIN}), "override a traffic gate"),
    "rollback": (frozenset({Group.ON_CALL, Group.ADMIN}), "roll back a migration"),
    "manage_global_freezes": (
        frozenset({Group.ADMIN}),
        "create or delete change freezes that hold every migration, or everything's calendar feed",
    ),
    "edit_contacts": (frozenset({Group.ADMIN}), "edit contacts"),
    "manage_users": (frozenset({Group.ADMIN}), "add, change or deactivate user accounts"),
    "edit_templates": (frozenset({Group.ADMIN}), "edit checklist templates"),
    "edit_channels": (frozenset({Group.ADMIN}), "edit notification channels"),
    "edit_rollback_hooks": (frozenset({Group.ADMIN}), "edit rollback hooks"),
    "manage_incidents": (
        frozenset({Group.OPS, Group.ON_CALL, Group.ADMIN}),
        "open, acknowledge or update incidents",
    ),
    "send_announcements": (
        frozenset({Group.OPS, Group.PRODUCT_MANAGER, Group.ADMIN}),
        "write or send announcements, or change the status page",
    ),
    "control_demo_provider": (
        frozenset({Group.OPS, Group.ON_CALL, Group.ADMIN}),
        "make the demo provider slow, erroring or down",
    ),
}
# Signing off a phase is not a group right: only the person assigned the phase's role on that
# migration may sign (see `can_sign_as`).


def groups_of(user) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(Group.ALL)
    cached = getattr(user, "_golive_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._golive_groups = cached
    return cached


def can(user, action: str) -> bool:
    allowed, _ = ACTIONS[action]
    return bool(groups_of(user) & allowed)


def require(user, action: str) -> None:
    if not can(user, action):
        _, what = ACTIONS[action]
        raise PermissionDenied(f"Your account may not {what}. Ask a golive Admin if you need to.")


def get_migration_for_user(user, slug: str, *, action: str = "view") -> Migration:
    """The migration, if `user` may do `action` on it; 404 if there is none, 403 if not allowed."""
    require(user, "view")
    migration = get_object_or_404(Migration, slug=slug)
    require(user, action)
    return migration


def can_assign_roles(user, migration: Migration) -> bool:
    """Admins assign roles on every migration; a Deployment Lead on the migration they lead."""
    if can(user, "manage_users"):
        return can(user, "view")
    return (
        can(user, "view")
        and MigrationRole.objects.filter(
            migration=migration, user=user, role=MigrationRoleName.DEPLOYMENT_LEAD
        ).exists()
    )


def require_assign_roles(user, migration: Migration) -> None:
    if not can_assign_roles(user, migration):
        raise PermissionDenied(
            f"Your account may not assign roles on {migration.name}: only an Admin or its Deployment "
            "Lead may. Ask one of them."
        )


def can_sign_as(user, migration: Migration, role: str) -> bool:
    return MigrationRole.objects.filter(migration=migration, user=user, role=role).exists()
