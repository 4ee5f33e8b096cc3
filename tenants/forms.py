"""Forms of the operator console: 利用団体の追加 and プラン. Every message says, in Japanese, what to do."""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from tenants.models import DEFAULT_MONTHLY_CHAR_CAP, Tenant, TenantJob, validate_slug
from tenants.plans import (
    MAX_MONTHLY_CHAR_CAP,
    MAX_MONTHLY_PRICE_CAP_YEN,
    MAX_SEAT_CAP,
    plan_errors,
)

# Paths of the console that a slug would shadow (/console/tenants/new/).
CONSOLE_RESERVED_SLUGS = frozenset({"new"})


class LenientIntegerField(forms.IntegerField):
    """An integer typed the way people type it: full-width digits and thousands separators are accepted."""

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).replace(",", "").replace(" ", "").strip()
        return super().to_python(value)


def _number(label: str, *, minimum: int, maximum: int, unit: str, required: bool = True, **kwargs):
    return LenientIntegerField(
        label=label,
        required=required,
        min_value=minimum,
        max_value=maximum,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": f"{label}を入力してください。",
            "invalid": f"{label}は半角または全角の数字（整数）で入力してください（例: 1000000）。",
            "min_value": f"{label}は{minimum:,}{unit}以上で指定してください。",
            "max_value": f"{label}は{maximum:,}{unit}以下で指定してください。大きすぎる値は入力の誤りとみなします。",
        },
        **kwargs,
    )


class PlanFieldsForm(forms.Form):
    """The plan of a municipality: seats, characters, models, price and the training flag."""

    seat_unlimited = forms.BooleanField(label="利用者数を無制限にする", required=False)
    seat_cap = _number("利用者数の上限", minimum=1, maximum=MAX_SEAT_CAP, unit="名", required=False,
                       help_text="有効な利用者アカウントの数の上限です。「無制限にする」を選んだ場合は空欄のままにします。")
    monthly_char_cap = _number(
        "月間文字数の上限", minimum=0, maximum=MAX_MONTHLY_CHAR_CAP, unit="文字", initial=DEFAULT_MONTHLY_CHAR_CAP,
        help_text="毎月1日（日本時間）に0から数え直します。プロンプトと回答の文字数の合計です。標準は1,000,000文字。",
    )
    allowed_models = forms.MultipleChoiceField(
        label="利用を認めるモデル", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="どれも選ばない場合は、カタログのすべてのモデルを利用できます。",
        error_messages={"invalid_choice": "カタログにないモデル「%(value)s」は選べません。"},
    )
    monthly_price_cap_yen = _number(
        "月間利用料金の上限（円）", minimum=0, maximum=MAX_MONTHLY_PRICE_CAP_YEN, unit="円", required=False,
        help_text="空欄の場合は料金の上限を設けません（文字数の上限のみ）。カタログの単価で費用を計算します。",
    )
    is_training = forms.BooleanField(
        label="研修環境として扱う", required=False,
        help_text="研修会の前に運営コンソールから初期状態に戻せる利用団体です。本番の利用団体では選ばないでください。",
    )

    def __init__(self, *args, **kwargs):
        from llm.catalogue import available_models

        super().__init__(*args, **kwargs)
        self.fields["allowed_models"].choices = [
            (spec.name, f"{spec.label}（{spec.name}）" if spec.label and spec.label != spec.name else spec.name)
            for spec in available_models()
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("seat_unlimited"):
            # "Unlimited" wins over whatever is left in the number box.
            self.errors.pop("seat_cap", None)
            cleaned["seat_cap"] = None
        elif cleaned.get("seat_cap") is None and "seat_cap" not in self.errors:
            self.add_error("seat_cap", "利用者数の上限を入力するか、「利用者数を無制限にする」を選んでください。")
        if not self.errors:
            for field, messages in plan_errors(self.plan()).items():
                for message in messages:
                    self.add_error(field, message)
        return cleaned

    def plan(self) -> dict:
        data = self.cleaned_data
        return {
            "seat_cap": None if data.get("seat_unlimited") else data.get("seat_cap"),
            "monthly_char_cap": data.get("monthly_char_cap"),
            "allowed_models": list(data.get("allowed_models") or []),
            "monthly_price_cap_yen": data.get("monthly_price_cap_yen"),
            "is_training": bool(data.get("is_training")),
        }


def plan_initial(tenant: Tenant) -> dict:
    return {
        "seat_unlimited": tenant.seat_cap is None,
        "seat_cap": tenant.seat_cap,
        "monthly_char_cap": tenant.monthly_char_cap,
        "allowed_models": list(tenant.allowed_models or []),
        "monthly_price_cap_yen": tenant.monthly_price_cap_yen,
        "is_training": tenant.is_training,
    }


class PlanForm(PlanFieldsForm):
    """プラン: the current plan of one municipality, changed through ``set_plan``."""

    def __init__(self, *args, tenant: Tenant, **kwargs):
        kwargs.setdefault("initial", plan_initial(tenant))
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        known = {value for value, _ in self.fields["allowed_models"].choices}
        # Models taken out of the catalogue since the plan was set: saving the form drops them from the plan.
        self.retired_models = [name for name in (tenant.allowed_models or []) if name not in known]
        if self.retired_models and not self.is_bound:
            self.initial["allowed_models"] = [n for n in self.initial["allowed_models"] if n in known]


class TenantCreateForm(PlanFieldsForm):
    """利用団体の追加: identity, first administrator and plan. Creation itself runs as a background job."""

    slug = forms.CharField(
        label="識別子", max_length=31, strip=True,
        help_text="アドレスの先頭になる英字の名前です（例: maebashi → maebashi.<県のドメイン>）。"
                  "英小文字で始め、英小文字・数字・ハイフンで3〜31文字。後から変更できません。",
        error_messages={"required": "識別子を入力してください（例: maebashi）。",
                        "max_length": "識別子は31文字以内で入力してください。"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    name = forms.CharField(
        label="表示名", max_length=100,
        help_text="職員の画面の見出しに表示される名前です（例: 前橋市）。",
        error_messages={"required": "表示名を入力してください（例: 前橋市）。",
                        "max_length": "表示名は100文字以内で入力してください。"},
    )
    admin_email = forms.EmailField(
        label="最初の管理者のメールアドレス", max_length=254,
        error_messages={"required": "最初の管理者のメールアドレスを入力してください。",
                        "invalid": "メールアドレスの形式が正しくありません（例: taro.yamada@city.example.lg.jp）。"},
    )
    admin_staff_number = forms.CharField(
        label="最初の管理者の職員番号", max_length=32,
        help_text="ログインにはメールアドレスか職員番号を使います。",
        error_messages={"required": "最初の管理者の職員番号を入力してください。",
                        "max_length": "職員番号は32文字以内で入力してください。"},
    )
    admin_full_name = forms.CharField(
        label="最初の管理者の氏名", max_length=100, required=False,
        error_messages={"max_length": "氏名は100文字以内で入力してください。"},
    )

    field_order = ["slug", "name", "admin_email", "admin_staff_number", "admin_full_name"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if any(ch.isspace() for ch in slug):
            raise ValidationError("識別子に空白は使えません。英小文字・数字・ハイフンだけで入力してください。")
        if not slug.isascii():
            raise ValidationError(
                "識別子に日本語や全角文字は使えません。ローマ字の英小文字で入力してください（例: maebashi）。"
            )
        if slug != slug.lower():
            raise ValidationError(
                f"識別子に英大文字は使えません。英小文字で入力してください（例: {slug.lower()}）。"
            )
        validate_slug(slug)
        if slug in CONSOLE_RESERVED_SLUGS:
            raise ValidationError(f"「{slug}」は予約された識別子のため使えません。別の識別子を指定してください。")
        if Tenant.objects.filter(slug=slug).exists():
            raise ValidationError(f"識別子「{slug}」はすでに使われています。別の識別子を指定してください。")
        if TenantJob.objects.filter(
            kind=TenantJob.Kind.PROVISION, tenant_slug=slug,
            state__in=[TenantJob.State.QUEUED, TenantJob.State.RUNNING],
        ).exists():
            raise ValidationError(f"識別子「{slug}」の利用団体は現在追加の処理中です。処理の完了をお待ちください。")
        return slug

    def job_params(self, *, actor) -> dict:
        """What the provisioning job needs: no password (the worker generates it and shows it once)."""
        data = self.cleaned_data
        return {
            "slug": data["slug"],
            "name": data["name"],
            "admin_email": data["admin_email"],
            "admin_staff_number": data["admin_staff_number"],
            "admin_full_name": data.get("admin_full_name", ""),
            "actor_id": getattr(actor, "pk", None),
            **self.plan(),
        }
