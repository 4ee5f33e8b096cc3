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


OPERATOR_PATHS = ("/console/", "/django-admin/")


def page_not_found(request, exception=None):
    tenant = getattr(request, "tenant", None)
    if tenant is not None and not tenant.is_public and request.path.startswith(OPERATOR_PATHS):
        # The console does not exist on a municipality's host; someone looking for it there is still worth a line
        # in that municipality's trail.
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        record(action="access.denied", actor=user if authenticated else None,
               actor_label="" if authenticated else "anonymous", target=request.path[:255], request=request,
               detail={"reason": "operator_path_on_tenant_host"})
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
