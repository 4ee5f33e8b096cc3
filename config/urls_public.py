"""URLs of the prefecture operator's host (the base domain). None of these exist on a municipality's host."""

from django.contrib import admin
from django.urls import include, path

from tenants.views import console

urlpatterns = [
    # "home" is the name allauth redirects to after log-in on either kind of host.
    path("", console.console_home, name="home"),
    path("console/", include("tenants.urls.console")),
    path("console/dashboard/", include("tenants.urls.dashboard")),
    path("console/announcements/", include("tenants.urls.announcements")),
    path("console/environments/", include("tenants.urls.environments")),
    path("console/training/", include("tenants.urls.training")),
    path("console/jobs/", include("tenants.urls.jobs")),
    path("console/operators/", include("tenants.urls.operators")),
    path("accounts/", include("allauth.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
