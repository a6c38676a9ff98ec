"""The permission table of the README, role by role and action by action."""

import pytest

from migrations_app import access
from migrations_app.models import Migration, MigrationStatus

pytestmark = pytest.mark.django_db

ROLES = ["ops", "pm", "oncall", "admin_user", "outsider"]

# The README's permission table. Signing off is per migration role and tested with checklists.
EXPECTED = {
    "view": {"ops", "pm", "oncall", "admin_user"},
    "manage_migration": {"ops", "admin_user"},
    "tick_items": {"ops", "oncall", "admin_user"},
    "change_traffic": {"ops", "admin_user"},
    "override_gate": {"admin_user"},
    "manage_global_freezes": {"admin_user"},
    "rollback": {"oncall", "admin_user"},
    "edit_contacts": {"admin_user"},
    "edit_templates": {"admin_user"},
    "edit_channels": {"admin_user"},
    "manage_incidents": {"ops", "oncall", "admin_user"},
    "send_announcements": {"ops", "pm", "admin_user"},
}


def test_the_expected_table_names_every_action():
    assert set(EXPECTED) <= set(access.ACTIONS)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_what_the_table_says(request, role, action):
    user = request.getfixturevalue(role)
    assert access.can(user, action) is (role in EXPECTED[action])


def test_an_inactive_user_may_do_nothing(ops):
    ops.is_active = False
    assert not any(access.can(ops, action) for action in access.ACTIONS)


PAGES = [
    "/migrations/",
    "/migrations/card-payments/",
    "/migrations/card-payments/timeline/",
    "/migrations/card-payments/timeline.csv",
]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_pages_are_shown_to_every_role_and_refused_to_outsiders(request, client_for, migration, role, url):
    response = client_for(request.getfixturevalue(role)).get(url)
    if role == "outsider":
        assert response.status_code == 403
        assert b"may not view go-live migrations" in response.content
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("url", [*PAGES, "/migrations/new/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, migration, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ROLES)
def test_only_ops_and_admins_may_open_the_new_migration_form(request, client_for, role):
    response = client_for(request.getfixturevalue(role)).get("/migrations/new/")
    assert response.status_code == (200 if role in {"ops", "admin_user"} else 403)


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        (MigrationStatus.PREPARING, {"ops", "admin_user"}),
        (MigrationStatus.ABORTED, {"ops", "admin_user"}),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_status_changes_are_checked_on_the_server(request, client_for, migration, role, target, allowed):
    response = client_for(request.getfixturevalue(role)).post(
        f"/migrations/{migration.slug}/transition/", {"to": target, "reason": "because"}
    )
    migration.refresh_from_db()
    if role in allowed:
        assert response.status_code == 302
        assert migration.status == target
    else:
        assert response.status_code == 403
        assert migration.status == MigrationStatus.DRAFT


def test_pausing_needs_the_change_traffic_right(client_for, migration, pm, ops):
    Migration.objects.filter(pk=migration.pk).update(status=MigrationStatus.ROLLING_OUT)
    refused = client_for(pm).post(
        f"/migrations/{migration.slug}/transition/", {"to": "paused", "reason": "x"}
    )
    assert refused.status_code == 403
    assert b"may not change traffic levels" in refused.content
    allowed = client_for(ops).post(
        f"/migrations/{migration.slug}/transition/", {"to": "paused", "reason": "x"}
    )
    assert allowed.status_code == 302
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.PAUSED


@pytest.mark.parametrize("url", ["/migrations/card-payments/transition/"])
def test_state_changes_refuse_get(client_for, ops, migration, url):
    assert client_for(ops).get(url).status_code == 405


def test_a_post_without_csrf_token_is_refused(ops, migration):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ops)
    response = client.post(f"/migrations/{migration.slug}/transition/", {"to": "preparing"})
    assert response.status_code == 403
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.DRAFT
