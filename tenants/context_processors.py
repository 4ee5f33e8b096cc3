def current_tenant(request):
    tenant = getattr(request, "tenant", None)
    return {
        "current_tenant": tenant,
        "on_public_host": tenant is None or tenant.is_public,
    }
