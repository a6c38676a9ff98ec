from django.utils import timezone

from golive_site.version import golive_version


def golive(request):
    """The version, the zone the page's times are in (the viewer's own), and their theme."""
    preference = getattr(request, "golive_preference", None)
    return {
        "golive_version": golive_version(),
        "golive_time_zone": timezone.get_current_timezone_name(),
        "golive_theme": preference.theme if preference is not None else "system",
    }
