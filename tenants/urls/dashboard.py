from django.urls import path, re_path

from tenants.views import dashboard

app_name = "dashboard"
urlpatterns = [
    path("", dashboard.dashboard_home, name="home"),
    path("refresh/", dashboard.dashboard_refresh, name="refresh"),
    # A dot never occurs in a municipality's slug, so these cannot shadow a drill-down page.
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", dashboard.dashboard_export, name="export"),
    path("<slug:slug>/", dashboard.dashboard_tenant, name="tenant"),
    re_path(r"^(?P<slug>[a-z0-9-]+)/export\.(?P<fmt>csv|xlsx)$", dashboard.dashboard_export, name="tenant_export"),
]
