from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.queries import seat_usage


@login_required
def home(request):
    return render(request, "accounts/home.html", {"seats": seat_usage() if request.user.is_tenant_admin else None})
