"""Integers past PostgreSQL's bigint in query strings, forms and multi-selects: a filter shows an
empty result, a form names the field, never a 500 (PostgreSQL refuses such a number as a
parameter: "integer out of range"). DEBUG on and off."""

import pytest
from django.test import override_settings

from checklists.models import ChecklistItem

pytestmark = pytest.mark.django_db

HUGE = ["9223372036854775808", "-9223372036854775809", "99999999999999999999999999", "1e999", "NaN"]


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_checklist_filter_past_bigint_shows_nothing_instead_of_failing(client, world, debug):
    client.force_login(world.users["ops"])
    url = f"/checklists/migration/{world.migration.slug}/"
    with override_settings(DEBUG=debug):
        for value in HUGE:
            for name in ("section", "owner"):
                response = client.get(url, {name: value})
                assert response.status_code == 200, (name, value, response.status_code)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_owner_past_bigint_in_a_form_is_refused_naming_the_field(client, world, debug):
    client.force_login(world.users["ops"])
    item = ChecklistItem.objects.filter(section__phase__migration=world.migration).first()
    before = (item.owner_id, item.due_date)
    with override_settings(DEBUG=debug):
        for value in HUGE:
            response = client.post(
                f"/checklists/items/{item.pk}/details/", {"owner": value}, HTTP_HX_REQUEST="true"
            )
            assert response.status_code in (400, 422), (value, response.status_code)
            assert "Select a valid choice" in response.content.decode(), value
            response = client.post(
                f"/checklists/migration/{world.migration.slug}/assign/",
                {"items": [item.pk, value], "owner": world.users["ops"].pk},
            )
            assert response.status_code < 500, (value, response.status_code)
            response = client.post("/migrations/new/", {"name": "x", "slug": "x-1", "owner": value})
            assert response.status_code < 500, (value, response.status_code)
    item.refresh_from_db()
    assert (item.owner_id, item.due_date) == before


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_id_past_bigint_in_a_path_is_not_found(client, world, debug):
    client.force_login(world.users["ops"])
    huge = "9223372036854775808"
    with override_settings(DEBUG=debug):
        assert client.get(f"/checklists/items/{huge}/").status_code == 404
        assert client.get(f"/checklists/phases/{huge}/sheet/").status_code == 404
        assert client.post(f"/account/tokens/{huge}/revoke/").status_code == 404
