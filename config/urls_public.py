"""URLs of the prefecture operator's host (the base domain)."""

from django.contrib import admin
from django.urls import include, path

from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.console_home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
