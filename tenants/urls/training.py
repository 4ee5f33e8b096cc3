from django.urls import path

from tenants.views import training_env

app_name = "training_env"
urlpatterns = [
    path("", training_env.training_list, name="list"),
    path("<slug:slug>/reset/", training_env.training_reset, name="reset"),
]
