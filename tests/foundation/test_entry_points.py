"""Ways into golive people try first: /accounts/login/, the favicon, how a person is named."""

import pytest

from migrations_app.people.display import person_label
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_accounts_login_leads_to_the_login_page_keeping_next(client):
    response = client.get("/accounts/login/?next=/people/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/people/"
    assert "Log in to golive" in client.get(response["Location"]).content.decode()


def test_the_favicon_is_an_svg_every_page_links(client, ops):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    client.force_login(ops)
    assert (
        'rel="icon" href="/static/favicon.svg" type="image/svg+xml"'
        in client.get("/migrations/").content.decode()
    )


def test_a_person_is_shown_by_full_name_then_user_name_or_the_user_name_alone(db):
    assert person_label(make_user("ada", first_name="Ada", last_name="Lovelace")) == "Ada Lovelace (ada)"
    assert person_label(make_user("ci-bot")) == "ci-bot"
    assert person_label(None) == "nobody"
