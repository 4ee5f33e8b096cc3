from django.urls import path

from rag import views

app_name = "rag"
urlpatterns = [
    path("", views.collection_list, name="collections"),
    path("<int:collection_id>/", views.collection_detail, name="collection"),
    path("<int:collection_id>/documents/", views.document_states, name="document_states"),
    path("<int:collection_id>/upload/", views.upload, name="upload"),
    path("<int:collection_id>/search-test/", views.search_test, name="search_test"),
    path("documents/<int:document_id>/", views.document_action, name="document_action"),
    path("documents/<int:document_id>/file/", views.document_file, name="document_file"),
    path("passages/<int:chunk_id>/", views.passage, name="passage"),
]
