from django.shortcuts import render

from accounts.queries import require_tenant_admin, seat_usage, users_for_admin
from adminpanel.access import admin_required


@admin_required
def dashboard(request):
    require_tenant_admin(request.user)
    return render(
        request,
        "adminpanel/dashboard.html",
        {"seats": seat_usage(), "users": users_for_admin(request.user)},
    )
