from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.home, name="home"),
    path("announcements/", views.announcement_list, name="announcements"),
    path("tips/", views.tip_list, name="tips"),
    path("tips/new/", views.tip_edit, name="tip_new"),
    path("tips/<int:tip_id>/", views.tip_detail, name="tip"),
    path("tips/<int:tip_id>/edit/", views.tip_edit, name="tip_edit"),
    path("tips/<int:tip_id>/delete/", views.tip_delete, name="tip_delete"),
    path("images/upload/", views.image_upload, name="image_upload"),
    path("images/<int:image_id>/", views.image, name="image"),
    path("board/", views.thread_list, name="threads"),
    path("board/<int:thread_id>/", views.thread_detail, name="thread"),
    path("board/<int:thread_id>/moderate/", views.thread_moderate, name="thread_moderate"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/remove/", views.post_remove, name="post_remove"),
    path("manuals/<str:kind>/", views.manual, name="manual"),
    path("manuals/<str:kind>/export/", views.manual_export, name="manual_export"),
    path("manuals/<str:kind>/pdf/", views.manual_export_pdf, name="manual_export_pdf"),
]
