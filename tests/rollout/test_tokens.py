"""API tokens: the management command, hashed storage, revocation, the profile page."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.rollout import tokens
from migrations_app.rollout.models import ApiToken

pytestmark = pytest.mark.django_db


def test_the_command_prints_the_token_once_and_stores_only_its_hash(ops):
    out = io.StringIO()
    call_command(
        "create_api_token", "ops-user", "--scopes", "flags,operate,ingest", stdout=out, stderr=io.StringIO()
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert raw.startswith(f"glv_{token.prefix}_") and len(raw) > 50
    assert token.token_hash == tokens.hash_token(raw) and raw not in str(token.__dict__)
    assert token.scopes == ["flags", "ingest", "operate"]
    assert tokens.authenticate(raw, scope="operate")[1] == 200


def test_the_command_refuses_unknown_scopes_and_users(ops):
    with pytest.raises(CommandError, match="Choose one or more"):
        call_command("create_api_token", "ops-user", "--scopes", "flags,admin", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "nobody", "--scopes", "flags", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_a_revoked_token_stops_working_within_a_second(ops, monkeypatch):
    token, raw = tokens.create_token(user=ops, name="app", scopes="flags", by=Actor.for_user(ops))
    assert tokens.authenticate(raw, scope="flags")[1] == 200
    tokens.revoke_token(token, by=Actor.for_user(ops))
    monkeypatch.setattr(tokens.cache, "_loaded_at", tokens.cache._loaded_at - 0.6)
    assert tokens.authenticate(raw, scope="flags") == (None, 401)
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_last_use_is_written_at_most_once_a_minute(ops, monkeypatch):
    token, raw = tokens.create_token(user=ops, name="app", scopes="flags", by=Actor.for_user(ops))
    tokens.authenticate(raw, scope="flags")
    monkeypatch.setattr(tokens.cache, "_used_flushed_at", tokens.cache._used_flushed_at - 61)
    monkeypatch.setattr(tokens.cache, "_loaded_at", tokens.cache._loaded_at - 0.6)
    tokens.authenticate(raw, scope="flags")
    token.refresh_from_db()
    assert token.last_used_at is not None and timezone.now() - token.last_used_at < dt.timedelta(seconds=5)


def test_the_profile_page_creates_shows_once_and_revokes(client_for, ops):
    client = client_for(ops)
    response = client.post("/account/tokens/", {"name": "checkout prod", "scopes": ["flags"]})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=ops)
    raw = response.context["created"]["raw"]
    assert raw.encode() in response.content
    assert raw.encode() not in client.get("/account/tokens/").content
    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_profile_page_names_the_missing_field(client_for, ops):
    response = client_for(ops).post("/account/tokens/", {"name": "x"})
    assert response.status_code == 422
    assert b"Choose one or more" in response.content
    assert not ApiToken.objects.exists()


def test_the_profile_page_refuses_outsiders(client_for, outsider):
    assert (
        client_for(outsider).post("/account/tokens/", {"name": "x", "scopes": ["flags"]}).status_code == 403
    )


def test_nobody_revokes_someone_elses_token(client_for, ops, oncall):
    token, _ = tokens.create_token(user=ops, name="app", scopes="flags", by=Actor.for_user(ops))
    assert client_for(oncall).post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert client_for(oncall).get(f"/account/tokens/{token.pk}/revoke/").status_code == 405
