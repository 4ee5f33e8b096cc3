"""Users given a password by an administrator (reset, import) must choose their own before anything else."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

ALLOWED_PREFIXES = ("/static/", "/healthz", "/accounts/logout/", "/accounts/password/change/")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(ALLOWED_PREFIXES)
        ):
            messages.warning(request, "管理者が設定した初期パスワードのままです。新しいパスワードに変更してください。")
            return redirect(reverse("account_change_password"))
        return self.get_response(request)
