from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tenants.queries import municipality_rows


@login_required
def console_home(request):
    rows = municipality_rows(request.user)
    port = request.get_port()
    return render(request, "tenants/console_home.html", {"rows": rows, "port": port})
