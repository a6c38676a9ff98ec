"""The Django admin is golive's break-glass tool: only staff accounts see it.

Django's own admin answers a signed-in account without staff rights with its login form
("you are authenticated as ... but are not authorized"), which reads like a broken login. golive
answers with its own 403 page instead, saying what to use."""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied

NOT_STAFF = (
    "The Django admin is a break-glass tool for staff accounts, and yours is not one. "
    "Everything your role may do is in golive's own pages; ask an Admin if you need more."
)


class GoliveAdminSite(admin.AdminSite):
    site_header = "golive administration"
    site_title = "golive admin"

    def _refuse_signed_in_non_staff(self, request) -> None:
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied(NOT_STAFF)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def refusing(request, *args, **kwargs):
            self._refuse_signed_in_non_staff(request)
            return inner(request, *args, **kwargs)

        return refusing

    def login(self, request, extra_context=None):
        self._refuse_signed_in_non_staff(request)
        return super().login(request, extra_context)


class GoliveAdminConfig(AdminConfig):
    default_site = "golive_site.admin_site.GoliveAdminSite"
