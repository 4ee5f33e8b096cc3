"""利用者管理: list, search, create, edit, disable, re-enable, delete, reset password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import services
from accounts.models import User
from accounts.queries import (
    get_user_for_admin,
    require_tenant_admin,
    search_users_for_admin,
    seat_usage,
)
from adminpanel.access import admin_required


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return exc.messages


def _password_once(request, user, password: str, what: str):
    response = render(request, "adminpanel/password_once.html", {"target": user, "password": password, "what": what})
    response["Cache-Control"] = "no-store"
    return response


def _without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@admin_required
def user_list(request):
    require_tenant_admin(request.user)
    filters = {k: request.GET.get(k, "") for k in ("text", "group_id", "role", "active")}
    page = Paginator(search_users_for_admin(request.user, **filters), 50).get_page(request.GET.get("page"))
    return render(request, "adminpanel/users.html", {
        "page": page, "filters": filters, "groups": Group.objects.order_by("name"), "roles": User.Role.choices,
        "seats": seat_usage(), "querystring": _without_page(request),
    })


@admin_required
def user_create(request):
    require_tenant_admin(request.user)
    form = {k: request.POST.get(k, "") for k in ("staff_number", "email", "full_name", "department", "role")}
    form["role"] = form["role"] or User.Role.GENERAL
    errors: list[str] = []
    if request.method == "POST":
        try:
            from tenants.services import generate_password

            password = request.POST.get("password") or generate_password()
            user = services.create_user(
                staff_number=form["staff_number"], email=form["email"], full_name=form["full_name"],
                department=form["department"], role=form["role"] or User.Role.GENERAL, password=password,
                groups=[g.name for g in Group.objects.filter(pk__in=request.POST.getlist("groups"))],
                must_change_password=True, actor=request.user, request=request,
            )
            # Shown in this response only: a flash message would keep it in a cookie or the session table.
            return _password_once(request, user, password, "を登録しました。")
        except ValidationError as exc:
            errors = _errors(exc)
    return render(request, "adminpanel/user_form.html", {
        "form": form, "errors": errors, "groups": Group.objects.order_by("name"), "roles": User.Role.choices,
        "selected_groups": [int(g) for g in request.POST.getlist("groups") if g.isdigit()], "seats": seat_usage(),
    })


@admin_required
def user_edit(request, user_id: int):
    target = get_user_for_admin(request.user, user_id)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.update_user(
                user=target, email=request.POST.get("email", ""), full_name=request.POST.get("full_name", ""),
                department=request.POST.get("department", ""), role=request.POST.get("role", ""),
                groups=Group.objects.filter(pk__in=request.POST.getlist("groups")), actor=request.user,
                request=request,
            )
            messages.success(request, "利用者の情報を保存しました。")
            return redirect("adminpanel:user_edit", target.pk)
        except ValidationError as exc:
            errors = _errors(exc)
            target.refresh_from_db()
    form = {"staff_number": target.staff_number, "email": target.email, "full_name": target.full_name,
            "department": target.department, "role": target.role}
    return render(request, "adminpanel/user_form.html", {
        "target": target, "form": form, "errors": errors, "groups": Group.objects.order_by("name"),
        "roles": User.Role.choices, "selected_groups": list(target.groups.values_list("pk", flat=True)),
        "seats": seat_usage(),
    })


@admin_required
@require_POST
def user_action(request, user_id: int):
    target = get_user_for_admin(request.user, user_id)
    action = request.POST.get("action")
    try:
        if action == "disable":
            if target.pk == request.user.pk:
                raise ValidationError("自分自身は無効にできません。")
            services.set_active(user=target, active=False, actor=request.user, request=request)
            messages.success(request, f"{target} を無効にしました。")
        elif action == "enable":
            services.set_active(user=target, active=True, actor=request.user, request=request)
            messages.success(request, f"{target} を有効にしました。")
        elif action == "reset_password":
            password = services.reset_password(user=target, actor=request.user, request=request)
            return _password_once(request, target, password, "のパスワードを再設定しました。")
        elif action == "delete":
            label = str(target)
            services.delete_user(user=target, actor=request.user, request=request)
            messages.success(request, f"{label} を削除しました（操作ログと利用記録は残ります）。")
            return redirect("adminpanel:users")
        else:
            raise ValidationError("操作が正しくありません。")
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return redirect("adminpanel:user_edit", target.pk)
