from contextlib import suppress

from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from golive_site.version import golive_version
from migrations_app.rollout import selectors, tokens


def _flag_caches() -> dict:
    """How fresh this process's flag snapshot and token list are (stale while their refresh
    fails: the flag APIs then answer from the last good copy). Read through the caches, as a flag
    request would, so that a process no flag request reached yet reports the truth too."""
    for read in (selectors.flag_snapshot, lambda: tokens.cache.lookup("")):
        with suppress(DatabaseError):  # no good copy yet: the status says so
            read()
    return {
        "flag_snapshot": selectors.snapshot_cache.refresh.status(),
        "token_list": tokens.cache.refresh.status(),
    }


@never_cache
@require_GET
def health(request):
    """Liveness for load balancers. Only the database is vital: golive must keep rolling back
    while Redis or the workers are down, so their absence does not fail this check."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return JsonResponse(
            {
                "status": "error",
                "version": golive_version(),
                "failing": "database",
                "detail": f"database unreachable: {type(exc).__name__}",
                "flag_caches": _flag_caches(),
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "version": golive_version(), "flag_caches": _flag_caches()})
