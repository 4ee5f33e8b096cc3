from django.utils.functional import SimpleLazyObject


def current_tenant(request):
    tenant = getattr(request, "tenant", None)
    on_public_host = tenant is None or tenant.is_public

    def announcements():
        from tenants.announcements import current_for

        return [] if on_public_host else current_for(tenant)

    return {
        "current_tenant": tenant,
        "on_public_host": on_public_host,
        # Lazy: only pages that show the header banner (signed-in staff) pay for the (cached) read.
        "current_announcements": SimpleLazyObject(announcements),
    }
