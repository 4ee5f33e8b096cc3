from django.urls import path

from tenants.views import announcements

app_name = "announcements"
urlpatterns = [
    path("", announcements.announcement_list, name="list"),
    path("new/", announcements.announcement_edit, name="new"),
    path("<int:announcement_id>/edit/", announcements.announcement_edit, name="edit"),
    path("<int:announcement_id>/delete/", announcements.announcement_delete, name="delete"),
]
