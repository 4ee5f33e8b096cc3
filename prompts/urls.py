from django.urls import path

from prompts import views

app_name = "prompts"
urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_new, name="new"),
    path("<int:template_id>/", views.template_use, name="use"),
    path("<int:template_id>/edit/", views.template_edit, name="edit"),
    path("<int:template_id>/copy/", views.template_copy, name="copy"),
    path("<int:template_id>/delete/", views.template_delete, name="delete"),
]
