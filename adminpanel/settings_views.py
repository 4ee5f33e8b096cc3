"""セキュリティ設定 and モデル設定: the screening policy, banned words, models and per-user limits."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts.queries import require_tenant_admin
from adminpanel.access import admin_required
from chat import queries as chat_queries
from chat import services as chat_services
from chat.models import ChatSettings
from guard import services as guard_services
from guard.models import Action, BannedWord
from guard.screening import DEFAULT_POLICY, LABELS
from usage import services as usage_services
from usage.models import UsageSettings


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@admin_required
def security(request):
    require_tenant_admin(request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "policy":
                changes = {t: request.POST.get(f"policy_{t}", "") for t in DEFAULT_POLICY}
                guard_services.set_policy(changes=changes, actor=request.user, request=request)
                messages.success(request, "個人情報の対応方針を保存しました。")
            elif action == "add_word":
                guard_services.add_banned_word(word=request.POST.get("word", ""), note=request.POST.get("note", ""),
                                               actor=request.user, request=request)
                messages.success(request, "禁止語を追加しました。")
            elif action == "delete_word":
                guard_services.delete_banned_word(banned_id=int(request.POST.get("id", "0") or 0),
                                                  actor=request.user, request=request)
                messages.success(request, "禁止語を削除しました。")
            elif action == "import_words":
                upload = request.FILES.get("file")
                if upload is None:
                    raise ValidationError("CSVファイルを選んでください。")
                if upload.size > guard_services.MAX_IMPORT_BYTES:
                    raise ValidationError("ファイルが大きすぎます（上限1MB）。分割して取り込んでください。")
                result = guard_services.import_banned_words(data=upload.read(), actor=request.user, request=request)
                messages.success(request, f"禁止語を{result['added']}語取り込みました（登録済みの語は省略）。")
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        return redirect("adminpanel:security")
    policy = guard_services.current_policy()
    rows = [{"type": t, "label": LABELS[t], "action": policy[t]} for t in DEFAULT_POLICY]
    return render(request, "adminpanel/security.html", {
        "policy_rows": rows, "actions": Action.choices, "banned_words": BannedWord.objects.all(),
    })


@admin_required
def model_settings(request):
    require_tenant_admin(request.user)
    if request.method == "POST":
        try:
            chat_services.set_model_settings(
                default_model=request.POST.get("default_model", ""),
                user_models=request.POST.getlist("user_models"),
                actor=request.user, request=request,
            )
            raw_limit = request.POST.get("per_user_limit", "").replace(",", "").strip()
            if raw_limit and not raw_limit.isdigit():
                raise ValidationError("1人あたりの上限は数字で入力してください（上限なしは空欄）。")
            usage_services.set_per_user_limit(limit=int(raw_limit) if raw_limit else None,
                                              actor=request.user, request=request)
            messages.success(request, "モデルと利用上限の設定を保存しました。")
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        return redirect("adminpanel:models")
    chosen = ChatSettings.load().user_models
    return render(request, "adminpanel/models.html", {
        "models": chat_queries.tenant_models(),
        "user_models": chosen or [m.name for m in chat_queries.tenant_models()],
        "default_model": chat_queries.default_model().name,
        "per_user_limit": UsageSettings.load().per_user_monthly_limit,
    })
