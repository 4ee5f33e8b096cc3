"""テンプレート: list and search, create and edit, copy, and use (fill the variables, go to the chat box)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from prompts import services
from prompts.models import BODY_MAX_CHARS, PromptTemplate
from prompts.queries import SORT_LABELS, can_write, get_template_for_user, templates_for_user


def _flag(request, name: str) -> bool | None:
    # Only administrators see the おすすめ / ピン留め boxes; a general user's request naming them is refused (403).
    if request.user.is_tenant_admin:
        return request.POST.get(name) == "on"
    return True if name in request.POST else None


def _form_context(request, template: PromptTemplate | None, data=None) -> dict:
    groups = Group.objects.order_by("name")
    if not request.user.is_tenant_admin:
        groups = groups.filter(user=request.user)
    chosen = set()
    if data is not None:
        chosen = {int(g) for g in data.getlist("groups") if g.isdigit()}
    elif template is not None:
        chosen = set(template.groups.values_list("pk", flat=True))
    return {
        "template": template, "data": data, "groups": groups, "chosen_groups": chosen,
        "categories": PromptTemplate.Category.choices, "scopes": PromptTemplate.Scope.choices,
        "body_max": BODY_MAX_CHARS,
    }


def _save(request, template: PromptTemplate | None):
    try:
        saved = services.save_template(
            actor=request.user, template=template, title=request.POST.get("title", ""),
            category=request.POST.get("category", ""), description=request.POST.get("description", ""),
            body=request.POST.get("body", ""), scope=request.POST.get("scope", ""),
            group_ids=[int(g) for g in request.POST.getlist("groups") if g.isdigit()],
            recommended=_flag(request, "recommended"), pinned=_flag(request, "pinned"), request=request,
        )
    except ValidationError as exc:
        context = _form_context(request, template, request.POST)
        context["errors"] = exc.messages
        return render(request, "prompts/form.html", context, status=400)
    messages.success(request, f"テンプレート「{saved.title}」を保存しました。")
    return redirect("prompts:use", saved.pk)


@login_required
def template_list(request):
    query = request.GET.get("q", "")
    category = request.GET.get("category", "")
    sort = request.GET.get("sort", "popular")
    return render(request, "prompts/list.html", {
        "templates": templates_for_user(request.user, query=query, category=category, sort=sort),
        "query": query, "category": category, "sort": sort, "pick": request.GET.get("pick") == "1",
        "categories": PromptTemplate.Category.choices, "sorts": SORT_LABELS.items(),
    })


@login_required
def template_new(request):
    if request.method == "POST":
        return _save(request, None)
    return render(request, "prompts/form.html", _form_context(request, None))


@login_required
def template_edit(request, template_id: int):
    template = get_template_for_user(request.user, template_id, write=True)
    if request.method == "POST":
        return _save(request, template)
    return render(request, "prompts/form.html", _form_context(request, template))


@login_required
def template_use(request, template_id: int):
    template = get_template_for_user(request.user, template_id)
    variables = template.variables
    values = {name: "" for name in variables}
    errors: list[str] = []
    if request.method == "POST":
        values = {name: request.POST.get(f"var_{i}", "") for i, name in enumerate(variables)}
        try:
            prompt = services.use_template(actor=request.user, template=template, values=values, request=request)
        except ValidationError as exc:
            errors = exc.messages
        else:
            return redirect(f"{reverse('chat:home')}?{urlencode({'prompt': prompt})}")
    fields = [{"name": f"var_{i}", "label": name, "value": values[name]} for i, name in enumerate(variables)]
    return render(request, "prompts/use.html", {
        "template": template, "fields": fields, "errors": errors, "writable": can_write(request.user, template),
    }, status=400 if errors else 200)


@login_required
@require_POST
def template_copy(request, template_id: int):
    template = get_template_for_user(request.user, template_id)
    copy = services.copy_template(actor=request.user, template=template, request=request)
    messages.success(request, "自分用のコピーを作成しました。内容を編集して保存してください。")
    return redirect("prompts:edit", copy.pk)


@login_required
@require_POST
def template_delete(request, template_id: int):
    template = get_template_for_user(request.user, template_id, write=True)
    services.delete_template(actor=request.user, template=template, request=request)
    messages.success(request, f"テンプレート「{template.title}」を削除しました。")
    return redirect("prompts:list")
