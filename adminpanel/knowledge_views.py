"""ナレッジの診断 (12(3)): documents, passages and failures per knowledge base, and what staff thought of answers."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.shortcuts import render

from adminpanel.access import admin_required
from rag.models import Document, Feedback
from rag.queries import manageable_collections


@admin_required
def knowledge_diagnostics(request):
    collections = manageable_collections(request.user).annotate(
        document_total=Count("documents", distinct=True),
        ready=Count("documents", filter=Q(documents__state=Document.State.READY), distinct=True),
        failed=Count("documents", filter=Q(documents__state=Document.State.FAILED), distinct=True),
        chunks=Sum("documents__chunk_count"),
    ).order_by("name")
    feedback = {
        row["collection_id"]: row
        for row in Feedback.objects.values("collection_id").annotate(
            up=Count("id", filter=Q(helpful=True)), down=Count("id", filter=Q(helpful=False)))
    }
    failures = Document.objects.filter(state=Document.State.FAILED, collection__in=collections).select_related(
        "collection").order_by("-updated_at")[:100]
    # Documents that are usable but had parts left out (empty sheets, picture-only slides, unreadable pages):
    # answers cannot draw on those parts, which is often why a question goes unanswered.
    partial = Document.objects.filter(state=Document.State.READY, collection__in=collections).exclude(
        warnings=[]).select_related("collection").order_by("-updated_at")[:100]
    rows = [{"collection": c, "feedback": feedback.get(c.pk, {"up": 0, "down": 0})} for c in collections]
    return render(request, "adminpanel/knowledge.html", {"rows": rows, "failures": failures, "partial": partial})
