"""The one gate of the operator console: an active user of the public schema (the prefecture's DX office).

Console URLs exist only in the public URL conf, so a municipality's host answers them with 404; this decorator
covers the public host itself (anonymous users go to the log-in page, anyone else is refused and the refusal
is audited by the 403 handler).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required

from tenants.queries import require_operator


def operator_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        require_operator(request.user)
        return view(request, *args, **kwargs)

    return wrapped
