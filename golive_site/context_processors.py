from django.conf import settings

from golive_site.version import golive_version


def golive(request):
    return {"golive_version": golive_version(), "golive_time_zone": settings.TIME_ZONE}
