"""Strangers never see a technical page, even from a server running with DEBUG on (`make run`).

With DEBUG on, Django answers an unknown URL with its list of every URL pattern and an error
with a traceback and the settings. Staff accounts (the developer) still get those; everyone else,
anonymous visitors first, gets golive's own 404 and 500 pages. With DEBUG off Django already
uses golive's pages (templates/404.html, templates/500.html)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.shortcuts import render
from django.template import loader
from django.views.debug import ExceptionReporter

# The sentence Django's technical 404 and 500 pages both carry (django/views/templates/technical_*).
_TECHNICAL_MARK = b"<code>DEBUG = True</code>"


def is_developer(request) -> bool:
    user = getattr(request, "user", None)
    try:
        return bool(user is not None and user.is_authenticated and user.is_staff)
    except Exception:  # the error may be the database itself: then nobody is known
        return False


class StrangerSafeReporter(ExceptionReporter):
    """Django's debug reporter for staff; golive's plain 500 (or 400) page for everyone else."""

    def _bad_request(self) -> bool:
        return self.exc_type is not None and issubclass(self.exc_type, SuspiciousOperation | BadRequest)

    def get_traceback_html(self):
        if is_developer(self.request):
            return super().get_traceback_html()
        return loader.render_to_string("500.html", {"bad_request": self._bad_request()})

    def get_traceback_text(self):
        if is_developer(self.request):
            return super().get_traceback_text()
        if self._bad_request():
            return "golive could not read this request. Check the address and try again.\n"
        return "golive could not answer this request. The error is logged; try again in a minute.\n"


class StrangerErrorPagesMiddleware:
    """First in MIDDLEWARE, so it covers errors raised by every other middleware too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DEBUG:
            return self.get_response(request)
        request.exception_reporter_class = StrangerSafeReporter  # read by Django's 500/400 handling
        response = self.get_response(request)
        if response.status_code == 404 and _is_technical(response) and not is_developer(request):
            return render(request, "404.html", status=404)
        return response


def _is_technical(response) -> bool:
    return not response.streaming and _TECHNICAL_MARK in response.content
