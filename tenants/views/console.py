"""利用団体一覧 and the municipality pages of the operator console."""

from django.shortcuts import render

from tenants.access import operator_required
from tenants.queries import municipality_rows


@operator_required
def console_home(request):
    rows = municipality_rows(request.user)
    port = request.get_port()
    return render(request, "tenants/console_home.html", {"rows": rows, "port": port})
