from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError


class NotStaffNumberValidator:
    """A password must not be (or contain) the user's own staff number: colleagues know each other's numbers."""

    def validate(self, password: str, user=None) -> None:
        staff_number = getattr(user, "staff_number", "") or ""
        if not staff_number:
            return
        folded_password = unicodedata.normalize("NFKC", password).casefold()
        folded_number = unicodedata.normalize("NFKC", staff_number).casefold()
        if folded_number and folded_number in folded_password:
            raise ValidationError(
                "パスワードに職員番号を含めることはできません。別のパスワードを指定してください。",
                code="password_contains_staff_number",
            )

    def get_help_text(self) -> str:
        return "パスワードに職員番号を含めることはできません。"
