"""The JSON API under /api/v1 (django-ninja generates its OpenAPI document from the code): the
project's API object, with every app's router added. What the routers share (token auth, the
error shapes and who answers them) is the app layer's kit, migrations_app/api_kit.py."""

from django.db import InterfaceError, OperationalError

from checklists.api import router as checklist_router
from checklists.signoffs_api import router as signoff_router
from golive_site.middleware import database_unavailable
from migrations_app.api_kit import GoliveAPI, JsonBodyParser
from migrations_app.inbound.api import router as inbound_router
from migrations_app.inbound.kpis_api import router as webhook_kpis_router
from migrations_app.incidents.announcements_api import router as announcement_router
from migrations_app.incidents.api import router as incident_router
from migrations_app.incidents.settings_api import router as notification_settings_router
from migrations_app.lifecycle_api import router as lifecycle_router
from migrations_app.monitoring.alert_api import router as alert_router
from migrations_app.monitoring.api import router as monitoring_router
from migrations_app.monitoring.probe_api import router as probe_router
from migrations_app.monitoring.rules_api import router as rules_router
from migrations_app.monitoring.standard_api import router as standard_kpis_router
from migrations_app.people.account_api import router as accounts_router
from migrations_app.people.api import router as people_router
from migrations_app.people.preference_api import router as preference_router
from migrations_app.rollout.api import router as rollout_router
from migrations_app.rollout.freeze_api import router as freeze_router
from migrations_app.rollout.hook_api import router as hook_router
from migrations_app.rollout.plan_api import router as plan_router

api = GoliveAPI(
    title="golive API",
    version="1",
    description=(
        "Automation API for CI/CD pipelines and applications. Authenticate with "
        "`Authorization: Bearer <token>`; create tokens on your profile page or with "
        "`python manage.py create_api_token <username> --scopes operate`."
    ),
    urls_namespace="api",
    parser=JsonBodyParser(),
)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_down(request, exc):
    # Answered here because ninja, in DEBUG, would answer its traceback as a 500; the answer is
    # the one the project's middleware gives every other JSON endpoint and page.
    return database_unavailable(request)


for _router in (
    rollout_router,
    plan_router,
    freeze_router,
    monitoring_router,
    probe_router,
    standard_kpis_router,
    rules_router,
    hook_router,
    notification_settings_router,
    inbound_router,
    webhook_kpis_router,
    lifecycle_router,
    checklist_router,
    signoff_router,
    incident_router,
    announcement_router,
    people_router,
    accounts_router,
    preference_router,
    alert_router,
):
    api.add_router("/", _router)
