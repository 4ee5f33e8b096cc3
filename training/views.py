"""学習: TIPS, the 掲示板 and the manuals. Thin: every read through queries, every write through services."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.queries import require_tenant_admin
from tenants.announcements import current_for, published_for
from training import services
from training.manuals import MANUALS, TENANT_MANUALS, load_manual, search_sections
from training.queries import (
    get_image_for_user,
    get_post_for_user,
    get_thread_for_user,
    get_tip_for_user,
    posts_in_thread,
    threads_for_user,
    tips_for_user,
)
from training.rendering import render_markdown, render_tip

PAGE_SIZE = 20


@login_required
def home(request):
    return render(request, "training/home.html", {
        "announcements": current_for(getattr(request, "tenant", None))[:5],
        "tips": tips_for_user(request.user).filter(published=True)[:5],
        "threads": threads_for_user(request.user)[:5],
        "manuals": _manual_links(request.user),
    })


def _manual_links(user) -> list[tuple[str, str]]:
    return [(kind, title) for kind, (_, title) in MANUALS.items()
            if kind in TENANT_MANUALS and (kind != "admin" or user.is_tenant_admin)]


# --------------------------------------------------------------------------- 県からのお知らせ


@login_required
def announcement_list(request):
    # Bodies are the prefecture's Markdown: rendered with the same safe renderer as answers (no raw HTML).
    items = [(a, render_markdown(a.body)) for a in published_for(getattr(request, "tenant", None))]
    return render(request, "training/announcements.html", {"items": items})


# --------------------------------------------------------------------------- TIPS


@login_required
def tip_list(request):
    page = Paginator(tips_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "training/tips.html", {"page": page})


@login_required
def tip_detail(request, tip_id: int):
    tip = get_tip_for_user(request.user, tip_id)
    services.mark_tip_read(user=request.user, tip=tip)
    return render(request, "training/tip.html", {"tip": tip, "body_html": render_tip(tip.body)})


@login_required
def tip_edit(request, tip_id: int | None = None):
    require_tenant_admin(request.user)
    tip = get_tip_for_user(request.user, tip_id, write=True) if tip_id else None
    form = {"title": tip.title if tip else "", "body": tip.body if tip else "", "published": tip.published if tip
            else False}
    if request.method == "POST":
        form = {"title": request.POST.get("title", ""), "body": request.POST.get("body", ""),
                "published": request.POST.get("published") == "1"}
        try:
            tip = services.save_tip(actor=request.user, tip=tip, request=request, **form)
            messages.success(request, f"TIPS「{tip.title}」を保存しました。")
            return redirect("training:tip", tip.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(request, "training/tip_form.html", {"tip": tip, "form": form})


@login_required
@require_POST
def tip_delete(request, tip_id: int):
    tip = get_tip_for_user(request.user, tip_id, write=True)
    services.delete_tip(actor=request.user, tip=tip, request=request)
    messages.success(request, f"TIPS「{tip.title}」を削除しました。")
    return redirect("training:tips")


@login_required
@require_POST
def image_upload(request):
    require_tenant_admin(request.user)
    try:
        image = services.upload_tip_image(actor=request.user, uploaded=request.FILES.get("image"), request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("training:tip_new")
    messages.success(request, f"画像を登録しました。本文に ![説明](/learn/images/{image.pk}/) と書くと表示されます。")
    return redirect(request.POST.get("next") if str(request.POST.get("next", "")).startswith("/learn/")
                    else "training:tip_new")


@login_required
def image(request, image_id: int):
    image = get_image_for_user(request.user, image_id)
    path = Path(settings.MEDIA_ROOT) / image.file_path
    if not path.is_file():
        raise Http404("画像が見つかりません。")
    response = FileResponse(path.open("rb"), content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- 掲示板


@login_required
def thread_list(request):
    if request.method == "POST":
        try:
            thread = services.open_thread(actor=request.user, title=request.POST.get("title", ""),
                                          body=request.POST.get("body", ""), request=request)
            return redirect("training:thread", thread.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    page = Paginator(threads_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "training/threads.html", {"page": page})


@login_required
def thread_detail(request, thread_id: int):
    thread = get_thread_for_user(request.user, thread_id)
    if request.method == "POST":
        try:
            post = services.reply(actor=request.user, thread=thread, body=request.POST.get("body", ""),
                                  request=request)
            count = posts_in_thread(thread).filter(pk__lte=post.pk).count()
            return redirect(f"{request.path}?page={(count - 1) // PAGE_SIZE + 1}#post-{post.pk}")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    page = Paginator(posts_in_thread(thread), PAGE_SIZE).get_page(request.GET.get("page"))
    posts = [(post, "" if post.is_removed and not request.user.is_tenant_admin else render_markdown(post.body))
             for post in page]
    return render(request, "training/thread.html", {"thread": thread, "page": page, "posts": posts})


@login_required
@require_POST
def thread_moderate(request, thread_id: int):
    thread = get_thread_for_user(request.user, thread_id, moderate=True)
    flags = {name: request.POST[name] == "1" for name in ("pinned", "locked") if name in request.POST}
    services.set_thread_flags(actor=request.user, thread=thread, request=request, **flags)
    messages.success(request, "スレッドの設定を変更しました。")
    return redirect("training:thread", thread.pk)


@login_required
def post_edit(request, post_id: int):
    post = get_post_for_user(request.user, post_id, write=True)
    body = post.body
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            services.edit_post(actor=request.user, post=post, body=body, request=request)
            return redirect(f"{reverse('training:thread', args=[post.thread_id])}#post-{post.pk}")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(request, "training/post_form.html", {"post": post, "body": body})


@login_required
@require_POST
def post_remove(request, post_id: int):
    post = get_post_for_user(request.user, post_id, moderate=True)
    services.remove_post(actor=request.user, post=post, reason=request.POST.get("reason", ""), request=request)
    messages.success(request, "投稿を削除しました（内容は監査のため保存されています）。")
    return redirect("training:thread", post.thread_id)


# --------------------------------------------------------------------------- マニュアル


def _manual_for_user(user, kind: str):
    if kind not in TENANT_MANUALS:
        raise Http404("マニュアルが見つかりません。")
    if kind == "admin":
        require_tenant_admin(user)
    return load_manual(kind)


@login_required
def manual(request, kind: str):
    doc = _manual_for_user(request.user, kind)
    query = request.GET.get("q", "").strip()
    results = search_sections(doc, query) if query else []
    return render(request, "training/manual.html", {"manual": doc, "query": query, "results": results,
                                                    "manuals": _manual_links(request.user)})


@login_required
def manual_export(request, kind: str):
    doc = _manual_for_user(request.user, kind)
    html = render_to_string("training/manual_export.html", {"manual": doc})
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    filename = {"user": "akagi-user-manual.html", "admin": "akagi-admin-manual.html"}[kind]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def manual_export_pdf(request, kind: str):
    from training.pdf import manual_pdf  # reportlab is loaded only by the processes that build a PDF

    _manual_for_user(request.user, kind)
    response = HttpResponse(manual_pdf(kind), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="akagi-{kind}-manual.pdf"'
    return response
