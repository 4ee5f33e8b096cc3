"""allauth adapter: no self-service sign-up (administrators create accounts), Japanese messages, audit."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

from audit.services import record


def _identifier(credentials: dict) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")[:100]


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "invalid_login": "職員番号・メールアドレスまたはパスワードが正しくありません。入力内容をご確認ください。",
        "username_password_mismatch": (
            "職員番号・メールアドレスまたはパスワードが正しくありません。入力内容をご確認ください。"
        ),
        "email_password_mismatch": (
            "職員番号・メールアドレスまたはパスワードが正しくありません。入力内容をご確認ください。"
        ),
        "too_many_login_attempts": (
            "ログインの失敗が続いたため、このアカウントへのログインを一時的に停止しています。"
            "しばらく（最大15分）待ってから再度お試しください。お急ぎの場合は所属団体の管理者に連絡してください。"
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            record(action="login.locked", target=_identifier(credentials), request=request,
                   actor_label="anonymous")
            raise

    def authentication_failed(self, request, **credentials) -> None:
        record(action="login.failed", target=_identifier(credentials), request=request, actor_label="anonymous")

    def login(self, request, user) -> None:
        super().login(request, user)
        record(action="login", actor=user, target=f"user:{user.staff_number}", request=request)

    def set_password(self, user, password: str) -> None:
        # Called by allauth's password change and reset: a forced change (after a reset or an import) is done.
        from accounts.services import password_changed

        user.set_password(password)
        user.save()
        password_changed(user=user, request=getattr(self, "request", None))

    def logout(self, request) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            record(action="logout", actor=user, target=f"user:{user.staff_number}", request=request)
        super().logout(request)
