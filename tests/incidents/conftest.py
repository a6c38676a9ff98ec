import pytest

from migrations_app.models import Contact, MigrationRole
from tests.factories import put_live
from tests.incidents.servers import smtp_server


@pytest.fixture(autouse=True)
def _clean_caches():
    from django.core.cache import cache

    from migrations_app.rollout.selectors import snapshot_cache

    cache.clear()
    snapshot_cache.clear()


@pytest.fixture
def smtp(settings):
    """A real SMTP server; Django's SMTP backend points at it."""
    with smtp_server() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield inbox


@pytest.fixture
def live_migration(migration):
    return put_live(migration, 25)


@pytest.fixture
def people(migration, oncall, ops, pm):
    """An on-call contact and role holder, a lead role holder and a lead contact."""
    oncall.email, ops.email = "omar.oncall@example.com", "olivia.ops@example.com"
    oncall.save()
    ops.save()
    MigrationRole.objects.create(migration=migration, user=oncall, role="on_call")
    MigrationRole.objects.create(migration=migration, user=ops, role="deployment_lead")
    pager = Contact.objects.create(
        name="Night Pager",
        kind="internal_technical",
        role="On-call pager",
        email="pager@example.com",
        phone="+44 20 7946 0999",
        on_call=True,
    )
    lead = Contact.objects.create(
        name="Tess Techlead",
        kind="internal_technical",
        role="Technical lead",
        email="tess@example.com",
        phone="+44 20 7946 0888",
    )
    pager.migrations.add(migration)
    lead.migrations.add(migration)
    return {
        "on_call": ["omar.oncall@example.com", "pager@example.com"],
        "leads": ["olivia.ops@example.com", "tess@example.com"],
    }
