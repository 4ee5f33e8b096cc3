from __future__ import annotations

from django.contrib.auth import logout
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants routing, with a Japanese page for a host that is no municipality's.

    The page names no tenant: an unknown host must not reveal which municipalities exist.
    """

    def no_tenant_found(self, request, hostname):
        return render(request, "tenants/unknown_host.html", status=404)


class SuspendedTenantMiddleware:
    """A suspended municipality's staff see a maintenance page and cannot log in; nothing is deleted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public and not tenant.is_active:
            if getattr(request, "user", None) is not None and request.user.is_authenticated:
                logout(request)
            return render(request, "tenants/suspended.html", {"tenant": tenant}, status=503)
        return self.get_response(request)
