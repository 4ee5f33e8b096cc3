from django.urls import path

from adminpanel import settings_views, views

app_name = "adminpanel"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("security/", settings_views.security, name="security"),
    path("models/", settings_views.model_settings, name="models"),
]
