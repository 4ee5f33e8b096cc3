from django.urls import path

from tenants.views import environments

app_name = "environments"
urlpatterns = [
    path("", environments.index, name="index"),
    path("export/", environments.start_export, name="export"),
    path("import/", environments.start_import, name="import"),
    path("download/<int:job_id>/", environments.download, name="download"),
    path("delete/<int:job_id>/", environments.delete_archive, name="delete"),
]
