"""ナレッジ: knowledge bases, their documents (upload, URL, state), passages and the 検索テスト."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rag import services
from rag.models import Chunk, Collection, Document
from rag.queries import get_collection_for_user, readable_collections


def _document_for_user(user, document_id: int, *, write: bool = False) -> Document:
    document = Document.objects.filter(pk=document_id).select_related("collection").first()
    if document is None:
        raise Http404("文書が見つかりません。")
    get_collection_for_user(user, document.collection_id, write=write)  # 404 / 403 when not allowed
    return document


def _can_write(user, collection: Collection) -> bool:
    try:
        get_collection_for_user(user, collection.pk, write=True)
    except (Http404, PermissionDenied):
        return False
    return True


@login_required
def collection_list(request):
    if request.method == "POST":
        try:
            collection = services.save_collection(
                actor=request.user, name=request.POST.get("name", ""), description=request.POST.get("description", ""),
                access=request.POST.get("access", Collection.Access.PRIVATE),
                group_ids=[int(g) for g in request.POST.getlist("groups") if g.isdigit()],
                user_ids=[int(u) for u in request.POST.getlist("users") if u.isdigit()], request=request,
            )
            messages.success(request, f"コレクション「{collection.name}」を作成しました。文書を追加してください。")
            return redirect("rag:collection", collection.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("rag:collections")
    return render(request, "rag/collections.html", {
        "collections": readable_collections(request.user), "access_choices": Collection.Access.choices,
        "groups": Group.objects.order_by("name"),
    })


@login_required
def collection_detail(request, collection_id: int):
    from accounts.models import User

    collection = get_collection_for_user(request.user, collection_id)
    writable = _can_write(request.user, collection)
    if request.method == "POST":
        if not writable:
            raise PermissionDenied("このコレクションを変更できるのは作成者と管理者だけです。")
        action = request.POST.get("action")
        try:
            if action == "url":
                services.add_url(actor=request.user, collection=collection, url=request.POST.get("url", ""),
                                 depth=int(request.POST.get("depth", "0") or 0), request=request)
                messages.success(request, "Webページの取り込みを開始しました。")
            elif action == "access":
                services.save_collection(
                    actor=request.user, collection=collection, name=request.POST.get("name", collection.name),
                    description=request.POST.get("description", ""), access=request.POST.get("access", ""),
                    group_ids=[int(g) for g in request.POST.getlist("groups") if g.isdigit()],
                    user_ids=[int(u) for u in request.POST.getlist("users") if u.isdigit()], request=request)
                messages.success(request, "コレクションの設定を保存しました。")
            elif action == "delete":
                services.delete_collection(actor=request.user, collection=collection, request=request)
                messages.success(request, "コレクションを削除しました。")
                return redirect("rag:collections")
        except (ValidationError, ValueError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("rag:collection", collection.pk)
    return render(request, "rag/collection.html", {
        "collection": collection, "writable": writable, "documents": collection.documents.all(),
        "access_choices": Collection.Access.choices, "groups": Group.objects.order_by("name"),
        "users": User.objects.filter(is_active=True).order_by("staff_number"),
        "selected_groups": set(collection.groups.values_list("pk", flat=True)),
        "selected_users": set(collection.users.values_list("pk", flat=True)),
    })


@login_required
def document_states(request, collection_id: int):
    """The documents table alone, polled by htmx while anything is still being ingested."""
    collection = get_collection_for_user(request.user, collection_id)
    return render(request, "rag/_documents.html", {
        "collection": collection, "documents": collection.documents.all(),
        "writable": _can_write(request.user, collection),
    })


@login_required
@require_POST
def upload(request, collection_id: int):
    """One file per request (the page sends dropped files one by one, with a progress bar each)."""
    collection = get_collection_for_user(request.user, collection_id, write=True)
    upload_file = request.FILES.get("file")
    if upload_file is None:
        return JsonResponse({"error": "ファイルが選ばれていません。"}, status=400)
    if upload_file.size > services.MAX_UPLOAD_BYTES:
        return JsonResponse({"error": f"「{upload_file.name}」は大きすぎます（上限50MB）。"}, status=400)
    replace = None
    if request.POST.get("replace", "").isdigit():
        replace = _document_for_user(request.user, int(request.POST["replace"]), write=True)
    try:
        document, created = services.add_file(actor=request.user, collection=collection, filename=upload_file.name,
                                              data=upload_file.read(), replace=replace, request=request)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    note = "" if created else "同じ内容の文書が既にあるため、追加しませんでした。"
    return JsonResponse({"id": document.pk, "title": document.title, "created": created, "note": note})


@login_required
@require_POST
def document_action(request, document_id: int):
    document = _document_for_user(request.user, document_id, write=True)
    collection_id = document.collection_id
    if request.POST.get("action") == "delete":
        services.delete_document(actor=request.user, document=document, request=request)
        messages.success(request, f"「{document.title}」を削除しました。")
    elif request.POST.get("action") == "reingest":
        services.reingest(actor=request.user, document=document, request=request)
        messages.success(request, f"「{document.title}」を取り込み直します。")
    return redirect("rag:collection", collection_id)


@login_required
def document_file(request, document_id: int):
    document = _document_for_user(request.user, document_id)
    if document.source == Document.Source.URL:
        return redirect(document.final_url or document.url)
    if not document.file:
        raise Http404("ファイルがありません。")
    content_type = mimetypes.guess_type(document.original_name)[0] or "application/octet-stream"
    # PDFs open in the browser (so #page=N works); other formats download.
    inline = content_type == "application/pdf"
    response = FileResponse(document.file.open("rb"), content_type=content_type, as_attachment=not inline,
                            filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@login_required
def passage(request, chunk_id: int):
    chunk = Chunk.objects.filter(pk=chunk_id).select_related("document").first()
    if chunk is None:
        raise Http404("該当箇所が見つかりません。")
    document = _document_for_user(request.user, chunk.document_id)
    return render(request, "rag/passage.html", {"chunk": chunk, "document": document})


@login_required
def search_test(request, collection_id: int):
    """検索テスト: what retrieval returns for a question, with scores, for the owner and administrators."""
    from rag.retrieval import search

    collection = get_collection_for_user(request.user, collection_id, write=True)
    question = request.GET.get("q", "").strip()
    hits = search(request.user, question, collection_ids=[collection.pk], k=10) if question else []
    return render(request, "rag/search_test.html", {"collection": collection, "question": question, "hits": hits})
