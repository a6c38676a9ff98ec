"""golive's URLs plus the baseline: the least a Django JSON view can do behind the same middleware."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from golive_site.urls import handler403  # noqa: F401
from golive_site.urls import urlpatterns as golive_urlpatterns


@csrf_exempt  # the bench POSTs the same body as an OFREP evaluation
def minimal_json(request):
    return JsonResponse({"value": True})


urlpatterns = [path("bench/minimal-json", minimal_json), *golive_urlpatterns]
