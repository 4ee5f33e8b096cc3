from django.urls import path

from tenants.views import jobs

app_name = "jobs"
urlpatterns = [
    path("<int:job_id>/", jobs.job_status, name="status"),
]
