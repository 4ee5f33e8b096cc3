"""The console's two forms of 環境の引き継ぎ: which municipality to export, and under which slug to import."""

from __future__ import annotations

from django import forms

from tenants.archive.manifest import ArchiveError
from tenants.archive.verify import check_slug_free
from tenants.models import PUBLIC_SCHEMA, Tenant


class ExportForm(forms.Form):
    tenant = forms.ModelChoiceField(
        label="書き出す利用団体", to_field_name="slug", empty_label="選んでください",
        queryset=Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).order_by("slug"),
        error_messages={"required": "書き出す利用団体を選んでください。",
                        "invalid_choice": "その利用団体は見つかりません。一覧から選び直してください。"},
    )


class ImportForm(forms.Form):
    slug = forms.CharField(
        label="新しい識別子", max_length=31,
        help_text="英小文字で始め、英小文字・数字・ハイフンで3〜31文字。アドレスは <識別子>.<ベースドメイン> です。",
        error_messages={"required": "新しい識別子を入力してください。"},
    )
    name = forms.CharField(label="表示名", max_length=100, required=False,
                           help_text="空欄のときは書き出し元の表示名を使います。")

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        try:
            check_slug_free(slug)
        except ArchiveError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return slug
