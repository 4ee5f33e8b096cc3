from django.urls import path

from tenants.views import console

app_name = "console"
urlpatterns = [
    path("", console.console_home, name="home"),
]
