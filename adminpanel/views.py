from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.queries import require_tenant_admin, seat_usage, users_for_admin


@login_required
def dashboard(request):
    require_tenant_admin(request.user)
    return render(
        request,
        "adminpanel/dashboard.html",
        {"seats": seat_usage(), "users": users_for_admin(request.user)},
    )
