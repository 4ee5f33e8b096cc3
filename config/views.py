"""Error pages shared by both URL confs: Japanese, naming no other municipality, denials audited."""

from django.shortcuts import render

from audit.services import record


def permission_denied(request, exception=None):
    user = getattr(request, "user", None)
    record(
        action="access.denied",
        actor=user if user is not None and user.is_authenticated else None,
        actor_label="" if user is not None and user.is_authenticated else "anonymous",
        target=request.path[:255],
        request=request,
    )
    message = str(exception) if exception and str(exception) else "この画面を表示する権限がありません。"
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
