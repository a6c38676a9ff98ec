"""People who may not be there see golive's own pages: the admin refuses non-staff with golive's
403, and with DEBUG on (as `make run` serves) strangers get golive's 404/500, never Django's
technical pages with URL lists, tracebacks or settings."""

import pytest
from django.test import Client
from django.urls import path

from migrations_app.incidents.models import StatusPage
from tests.factories import make_user

TECHNICAL = ("DEBUG = True", "Traceback", "URLconf", "SECRET_KEY", "ROOT_URLCONF")


def _boom(request):
    raise RuntimeError("database password is hunter2")


urlpatterns = [path("boom/", _boom)]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True  # what `make run` serves
    return settings


@pytest.mark.parametrize("role", ["ops", "pm", "oncall", "admin_user_not_staff", "outsider"])
def test_a_signed_in_account_without_staff_rights_gets_golives_403_at_admin(request, db, client, role):
    user = (
        make_user("no-staff", groups=("Admin",))
        if role == "admin_user_not_staff"
        else request.getfixturevalue(role)
    )
    client.force_login(user)
    for url in ("/admin/", "/admin/monitoring/probe/", "/admin/login/", "/admin/auth/user/add/"):
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.content.decode()
        assert "Not allowed" in page and "break-glass tool for staff accounts" in page
        assert 'action="/admin/login/' not in page  # not Django's confusing login form


def test_staff_still_reach_the_admin_and_anonymous_visitors_its_login(client, admin_user):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/").status_code == 200
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200


def test_an_unknown_address_shows_golives_404_not_the_url_list(debug_on):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing at this address" in page
    assert not [word for word in TECHNICAL if word in page]
    assert "api/v1/" not in page  # Django's URL list would show the patterns


def test_a_missing_object_shows_golives_404_too(debug_on, client_for, outsider):
    response = client_for(outsider).get("/migrations/no-such-migration/")
    assert response.status_code in (403, 404)
    assert not [word for word in TECHNICAL if word in response.content.decode()]


def test_an_error_shows_golives_500_without_traceback_or_settings(debug_on, settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    for accept in ("text/html", "text/plain", "application/json"):
        response = client.get("/boom/", HTTP_ACCEPT=accept)
        assert response.status_code == 500
        body = response.content.decode()
        assert "golive could not answer this request" in body
        assert "hunter2" not in body and not [word for word in TECHNICAL if word in body]


def test_a_bad_host_header_is_a_plain_400(debug_on):
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    body = response.content.decode()
    assert "could not read this request" in body and not [w for w in TECHNICAL if w in body]


def test_the_developer_signed_in_as_staff_keeps_the_technical_pages(debug_on, client, admin_user):
    client.force_login(admin_user)
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "DEBUG = True" in response.content.decode()


def test_a_status_page_that_is_not_enabled_says_so_plainly(debug_on, migration):
    StatusPage.objects.update_or_create(migration=migration, defaults={"enabled": False})
    for slug in (migration.slug, "never-existed"):
        response = Client().get(f"/status/{slug}/")
        assert response.status_code == 404
        page = response.content.decode()
        assert "No public status page is published at this address" in page
        assert not [word for word in TECHNICAL if word in page]
