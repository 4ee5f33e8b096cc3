"""グループと権限: groups, their members, and what they may use."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts import group_services
from accounts.models import GroupPolicy, User
from accounts.queries import get_group_for_admin, groups_for_admin, require_tenant_admin
from adminpanel.access import admin_required
from chat.queries import tenant_models


@admin_required
def group_list(request):
    require_tenant_admin(request.user)
    if request.method == "POST":
        try:
            group = group_services.create_group(name=request.POST.get("name", ""),
                                                description=request.POST.get("description", ""),
                                                actor=request.user, request=request)
            messages.success(request, f"グループ「{group.name}」を作成しました。")
            return redirect("adminpanel:group_edit", group.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("adminpanel:groups")
    return render(request, "adminpanel/groups.html", {"groups": groups_for_admin(request.user)})


@admin_required
def group_edit(request, group_id: int):
    group = get_group_for_admin(request.user, group_id)
    policy, _ = GroupPolicy.objects.get_or_create(group=group)
    models = tenant_models()
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            group_services.delete_group(group=group, actor=request.user, request=request)
            messages.success(request, f"グループ「{group.name}」を削除しました。")
            return redirect("adminpanel:groups")
        known = {m.name for m in models}
        group_services.update_group_policy(
            group=group, description=request.POST.get("description", ""),
            allowed_models=[m for m in request.POST.getlist("allowed_models") if m in known],
            can_share_templates=request.POST.get("can_share_templates") == "on",
            can_export_own_conversations=request.POST.get("can_export_own_conversations") == "on",
            members=list(User.objects.filter(pk__in=request.POST.getlist("members"))),
            actor=request.user, request=request,
        )
        messages.success(request, "グループの設定を保存しました。")
        return redirect("adminpanel:group_edit", group.pk)
    return render(request, "adminpanel/group_form.html", {
        "group": group, "policy": policy, "models": models,
        "users": User.objects.order_by("staff_number"),
        "members": set(group.user_set.values_list("pk", flat=True)),
    })
