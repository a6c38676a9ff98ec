"""API tokens: created once, stored as a sha256, looked up from an in-process cache for flag reads."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from migrations_app import access, audit
from migrations_app.audit import Actor
from migrations_app.rollout.models import ApiToken, TokenScope
from migrations_app.rollout.refresh import RefreshState

TOKEN_PREFIX = "glv_"
CACHE_SECONDS = 0.5
LAST_USED_EVERY_SECONDS = 60


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_scopes(value: str | list[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    scopes = sorted({item.strip() for item in items if item.strip()})
    unknown = [scope for scope in scopes if scope not in TokenScope.values]
    if unknown or not scopes:
        allowed = ", ".join(TokenScope.values)
        raise ValidationError(
            {"scopes": f"Choose one or more of {allowed} (got: {', '.join(unknown) or 'none'})."}
        )
    return scopes


@transaction.atomic
def create_token(*, user, name: str, scopes: str | list[str], by: Actor) -> tuple[ApiToken, str]:
    """A new token and its plaintext, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name that says where it is used."})
    scopes = parse_scopes(scopes)
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name[:80], prefix=prefix, token_hash=hash_token(raw), scopes=scopes
    )
    audit.record(
        by, "api_token.created", token, after={"name": token.name, "scopes": scopes, "user": user.username}
    )
    return token, raw


@transaction.atomic
def revoke_token(token: ApiToken, *, by: Actor) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token  # already revoked: a double click
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(by, "api_token.revoked", token, before={"revoked": False}, after={"revoked": True})
    return token


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    user_id: int
    username: str
    scopes: frozenset[str]
    is_admin: bool


def _info(token: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=token.pk,
        name=token.name,
        user_id=token.user_id,
        username=token.user.get_username(),
        scopes=frozenset(token.scopes),
        is_admin=access.can(token.user, "override_gate"),
    )


def raw_from_header(value: str) -> str:
    """The token from `Authorization: Bearer <t>` or (Unleash SDKs) `Authorization: <t>`."""
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value


class _TokenCache:
    """token hash -> TokenInfo for every active token, rebuilt by one query every CACHE_SECONDS.

    A revoked token stops working within that time in every process, with no query per request.
    Use is remembered in memory and written at most once a minute per token. While the database
    is unreachable the last good list keeps answering (refresh.py)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_hash: dict[str, TokenInfo] = {}
        self._loaded_at = -1e9
        self._used: set[int] = set()
        self._used_flushed_at = time.monotonic()
        self.refresh = RefreshState("token list")

    def lookup(self, raw: str) -> TokenInfo | None:
        now = time.monotonic()
        if now - self._loaded_at > CACHE_SECONDS:
            self._reload(now)
        info = self._by_hash.get(hash_token(raw)) if raw else None
        if info is not None:
            self._used.add(info.id)
        return info

    def _reload(self, now: float) -> None:
        with self._lock:
            if now - self._loaded_at <= CACHE_SECONDS:
                return
            if self._loaded_at != -1e9 and not self.refresh.may_retry(now):
                return  # keep serving the last good list until the next retry
            try:
                self._by_hash = _active_tokens()
                self._flush_used(now)
            except DatabaseError as error:
                # Keep the last good list: a revoked token stays valid at most as long as the
                # outage, while refusing every application's flag reads would be the outage.
                self.refresh.failed(error, now)
                if self._loaded_at == -1e9:
                    raise  # never loaded: nothing good to fall back on, the caller answers 503
                return
            self._loaded_at = now
            self.refresh.succeeded(now)

    def _flush_used(self, now: float) -> None:
        if self._used and now - self._used_flushed_at > LAST_USED_EVERY_SECONDS:
            used, self._used = self._used, set()
            ApiToken.objects.filter(pk__in=used).update(last_used_at=timezone.now())
            self._used_flushed_at = now

    def clear(self) -> None:
        with self._lock:
            self._by_hash, self._loaded_at, self._used = {}, -1e9, set()


def _active_tokens() -> dict[str, TokenInfo]:
    tokens = ApiToken.objects.filter(revoked_at__isnull=True, user__is_active=True).select_related("user")
    by_hash = {}
    for token in tokens.prefetch_related("user__groups"):
        token.user._golive_groups = {group.name for group in token.user.groups.all()}
        by_hash[token.token_hash] = _info(token)
    return by_hash


cache = _TokenCache()


def authenticate(raw: str, *, scope: str) -> tuple[TokenInfo | None, int]:
    """(token, 200), or (None, 401) for an unknown token, or (token, 403) for a token without `scope`."""
    info = cache.lookup(raw)
    if info is None:
        return None, 401
    if scope not in info.scopes:
        return info, 403
    return info, 200


def authenticate_model(raw: str, *, scope: str) -> tuple[ApiToken | None, int]:
    """Like `authenticate` but returns the row (for the automation API, which writes anyway)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None, 401
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if (
        token is None
        or not token.user.is_active
        or not secrets.compare_digest(token.token_hash, hash_token(raw))
    ):
        return None, 401
    if scope not in token.scopes:
        return token, 403
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token, 200
