"""Admins manage accounts from golive's pages: add, re-group, deactivate, reset a password."""

import pytest
from django.contrib.auth import get_user_model

from migrations_app.access import Group
from migrations_app.models import AuditEvent
from migrations_app.people import accounts
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


def edit_body(user, **changes):
    body = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "group": accounts.group_of(user),
        "is_active": "on" if user.is_active else "",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value != ""}


def test_an_admin_adds_a_person_and_sees_the_generated_password_once(client_for, admin_user):
    client = client_for(admin_user)
    body = {
        "username": "quinn",
        "first_name": "Quinn",
        "last_name": "QA",
        "email": "q@example.com",
        "group": "Ops",
    }
    response = client.post("/people/new/", body)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "shown <strong>this once</strong>" in page
    password = page.split('data-testid="new-password">')[1].split("<")[0]
    quinn = User.objects.get(username="quinn")
    assert quinn.check_password(password) and accounts.group_of(quinn) == Group.OPS
    event = AuditEvent.objects.get(action="user.created")
    assert event.after["group"] == "Ops" and password not in str(event.after)
    assert password not in client.get("/people/u/quinn/").content.decode()


def test_an_admin_may_set_the_password_instead(client_for, admin_user):
    body = {"username": "ci-bot", "group": "Ops", "password": "a-long-enough-secret-42"}
    response = client_for(admin_user).post("/people/new/", body)
    assert response.status_code == 302
    assert User.objects.get(username="ci-bot").check_password("a-long-enough-secret-42")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "", "group": "Ops"}, "Username"),
        ({"username": "x y!", "group": "Ops"}, "Username"),
        ({"username": "zed", "group": "Pilots"}, "Group"),
        ({"username": "zed", "group": "Ops", "email": "not-an-address"}, "Email"),
        ({"username": "zed", "group": "Ops", "password": "short"}, "Password"),
        ({"username": "PM-USER", "group": "Ops"}, "Username"),
    ],
)
def test_invalid_input_answers_422_naming_the_field_and_adds_nobody(client_for, admin_user, pm, body, field):
    count = User.objects.count()
    response = client_for(admin_user).post("/people/new/", body)
    assert response.status_code == 422
    assert f'<p class="error" role="alert">{field}:' in response.content.decode()
    assert User.objects.count() == count and not AuditEvent.objects.filter(action="user.created").exists()


def test_an_admin_moves_a_person_to_another_group_with_before_and_after(client_for, admin_user, ops):
    response = client_for(admin_user).post("/people/u/ops-user/", edit_body(ops, group="On-call"))
    assert response.status_code == 302
    assert accounts.group_of(User.objects.get(pk=ops.pk)) == Group.ON_CALL
    event = AuditEvent.objects.get(action="user.updated")
    assert (event.before, event.after) == ({"group": "Ops"}, {"group": "On-call"})


def test_a_deactivated_person_can_no_longer_log_in(client, client_for, admin_user, ops):
    client_for(admin_user).post("/people/u/ops-user/", edit_body(ops, is_active=""))
    client.logout()
    response = client.post("/login/", {"username": "ops-user", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session  # the form again
    assert AuditEvent.objects.get(action="user.updated").after == {"is_active": False}


def test_the_last_active_admin_cannot_be_demoted(client_for, admin_user):
    response = client_for(admin_user).post("/people/u/admin-user/", edit_body(admin_user, group="Ops"))
    assert response.status_code == 422
    assert "last active Admin" in response.content.decode()
    assert accounts.group_of(User.objects.get(pk=admin_user.pk)) == Group.ADMIN


def test_an_admin_cannot_deactivate_themselves(client_for, admin_user):
    from tests.factories import make_user

    make_user("admin-two", groups=(Group.ADMIN,))
    response = client_for(admin_user).post("/people/u/admin-user/", edit_body(admin_user, is_active=""))
    assert response.status_code == 422 and "your own account" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).is_active


def test_with_another_admin_an_admin_may_be_demoted(client_for, admin_user):
    from tests.factories import make_user

    other = make_user("admin-two", groups=(Group.ADMIN,))
    response = client_for(admin_user).post("/people/u/admin-two/", edit_body(other, group="Ops"))
    assert response.status_code == 302 and accounts.group_of(other) == Group.OPS


def test_a_password_reset_shows_the_new_one_once_and_the_old_stops_working(client_for, admin_user, ops):
    response = client_for(admin_user).post("/people/u/ops-user/password/", {})
    assert response.status_code == 200
    password = response.content.decode().split('data-testid="new-password">')[1].split("<")[0]
    ops.refresh_from_db()
    assert ops.check_password(password) and not ops.check_password(PASSWORD)
    assert AuditEvent.objects.get(action="user.password_reset").after == {"password": "generated, shown once"}


def test_a_too_short_password_is_refused_naming_the_field(client_for, admin_user, ops):
    response = client_for(admin_user).post("/people/u/ops-user/password/", {"password": "abc"})
    assert response.status_code == 422 and "New password:" in response.content.decode()
    ops.refresh_from_db()
    assert ops.check_password(PASSWORD)


def test_the_list_finds_people_by_any_part_of_their_name(client_for, admin_user, ops, pm):
    page = client_for(admin_user).get("/people/", {"q": "priya"}).content.decode()
    assert "Priya PM (pm-user)" in page and "Olivia Ops" not in page


def test_nobody_but_an_admin_reaches_the_account_pages(client_for, ops, outsider):
    for user in (ops, outsider):
        client = client_for(user)
        assert client.get("/people/").status_code == 403
        assert client.post("/people/new/", {"username": "x", "group": "Admin"}).status_code == 403
        assert client.post("/people/u/ops-user/password/", {}).status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_a_password_reset_is_post_only(client_for, admin_user, ops):
    assert client_for(admin_user).get("/people/u/ops-user/password/").status_code == 405
