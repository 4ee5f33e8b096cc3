"""URLs of a municipality's host (<slug>.<base domain>)."""

from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("chat/", include("chat.urls")),
    path("knowledge/", include("rag.urls")),
    path("templates/", include("prompts.urls")),
    path("manage/", include("adminpanel.urls")),
    path("learn/", include("training.urls")),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
