"""The JSON API under /api/v1 (django-ninja generates its OpenAPI document from the code)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="golive API",
    version="1",
    description="Automation API for CI/CD pipelines and applications.",
    urls_namespace="api",
)
