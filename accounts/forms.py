from __future__ import annotations

import unicodedata

from allauth.account.forms import LoginForm
from django import forms


class StaffLoginForm(LoginForm):
    """allauth's login form, labelled for municipal staff: 職員番号 or e-mail address, width-insensitive."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"] = forms.CharField(
            label="職員番号またはメールアドレス",
            max_length=254,
            widget=forms.TextInput(
                attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
            ),
            error_messages={"required": "職員番号またはメールアドレスを入力してください。"},
        )
        self.fields["password"].label = "パスワード"
        self.fields["password"].error_messages["required"] = "パスワードを入力してください。"
        self.order_fields(["login", "password"])

    def clean_login(self) -> str:
        # Full-width characters typed through an IME ("１２３４", "ｔａｒｏ＠…") are folded to ASCII.
        return unicodedata.normalize("NFKC", self.cleaned_data["login"]).strip()
