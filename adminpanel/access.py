"""Every admin screen starts with the same check, before anything else (method checks included)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required

from accounts.queries import require_tenant_admin


def admin_required(view):
    """Log-in, then 403 (audited by the 403 handler) for anyone but this municipality's administrators."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        require_tenant_admin(request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapped)
