"""運営者アカウント in the operator console: list, add, detail, and disable / enable / reset password.

A one-time password is rendered into the response of the POST that made it, with ``Cache-Control: no-store``:
never a flash message (that would keep it in a cookie or the session table), never a redirect target.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.shortcuts import redirect, render

from accounts.models import User, normalize_email
from tenants import operators as service
from tenants.access import operator_required
from tenants.views.console import ACTION_LABELS, detail_lines

STAFF_NUMBER_MAX = User._meta.get_field("staff_number").max_length
FULL_NAME_MAX = User._meta.get_field("full_name").max_length


class OperatorForm(forms.Form):
    """Parses the request; duplicates and the address rules are checked again by the service for every caller."""

    staff_number = forms.CharField(
        label="職員番号", max_length=STAFF_NUMBER_MAX,
        help_text="ログインに使います（例: PREF-0002）。全角で入力しても半角として登録します。",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "職員番号を入力してください。",
                        "max_length": f"職員番号は{STAFF_NUMBER_MAX}文字以内で入力してください。"},
    )
    # A CharField, so that an address typed in full-width through an IME is folded before it is checked.
    email = forms.CharField(
        label="メールアドレス", max_length=254,
        help_text="ログインにも使えます（例: taro.yamada@pref.example.lg.jp）。",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "メールアドレスを入力してください。",
                        "invalid": "メールアドレスの形式が正しくありません（例: taro.yamada@pref.example.lg.jp）。",
                        "max_length": "メールアドレスは254文字以内で入力してください。"},
    )
    full_name = forms.CharField(
        label="氏名", max_length=FULL_NAME_MAX,
        help_text="画面右上と監査ログの「操作者」に表示します。",
        error_messages={"required": "氏名を入力してください。",
                        "max_length": f"氏名は{FULL_NAME_MAX}文字以内で入力してください。"},
    )


    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError(self.fields["email"].error_messages["invalid"], code="invalid") from exc
        return email


def _password_once(request, operator: User, password: str, what: str):
    response = render(request, "tenants/operators_password.html", {
        "operator": operator, "password": password, "what": what,
    })
    response["Cache-Control"] = "no-store"
    return response


@operator_required
def operator_list(request):
    return render(request, "tenants/operators.html", {"operators": service.operator_list(request.user)})


@operator_required
def operator_create(request):
    form = OperatorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            operator, password = service.create_operator(**form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, field_errors in errors.items():
                form.add_error(field if field in form.fields else None, field_errors)
        else:
            return _password_once(request, operator, password, "を運営者として登録しました。")
    return render(request, "tenants/operators_form.html", {"form": form})


@operator_required
def operator_detail(request, operator_id: int):
    operator = service.get_operator_for_operator(request.user, operator_id)
    events = [{"event": e, "label": ACTION_LABELS.get(e.action, e.action), "lines": detail_lines(e.detail)}
              for e in service.operator_events(request.user, operator)]
    return render(request, "tenants/operators_detail.html", {
        "operator": operator, "events": events, "is_self": operator.pk == request.user.pk,
    })


ACTIONS = {
    "deactivate": ("無効にする", "無効にしました。このアカウントではログインできません。"),
    "activate": ("有効にする", "有効にしました。再びログインできます。"),
    "reset_password": ("パスワードを再設定する", ""),
}


def _action(request, operator_id: int, action: str):
    operator = service.get_operator_for_operator(request.user, operator_id)
    if request.method == "POST":
        try:
            if action == "reset_password":
                password = service.reset_operator_password(user=operator, actor=request.user, request=request)
                return _password_once(request, operator, password, "のパスワードを再設定しました。")
            service.set_operator_active(user=operator, active=action == "activate", actor=request.user,
                                        request=request)
            messages.success(request, f"{operator} を{ACTIONS[action][1]}")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("operators:detail", operator.pk)
    return render(request, "tenants/operators_confirm.html", {
        "operator": operator, "action": action, "button": ACTIONS[action][0],
        "is_self": operator.pk == request.user.pk, "active_count": service.active_operator_count(),
    })


@operator_required
def operator_deactivate(request, operator_id: int):
    return _action(request, operator_id, "deactivate")


@operator_required
def operator_activate(request, operator_id: int):
    return _action(request, operator_id, "activate")


@operator_required
def operator_reset_password(request, operator_id: int):
    return _action(request, operator_id, "reset_password")
