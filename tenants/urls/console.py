from django.urls import path

from tenants.views import console

app_name = "console"
urlpatterns = [
    path("", console.console_home, name="home"),
    path("export/", console.console_export, name="export"),
    path("audit/", console.operator_audit, name="audit"),
    path("manual/", console.operator_manual, name="manual"),
    path("manual/pdf/", console.operator_manual_pdf, name="manual_pdf"),
    # "new" comes before the slug pattern; the add form refuses "new" as a slug.
    path("tenants/new/", console.tenant_create, name="tenant_create"),
    path("tenants/<slug:slug>/", console.tenant_detail, name="tenant"),
    path("tenants/<slug:slug>/plan/", console.tenant_plan, name="plan"),
    path("tenants/<slug:slug>/suspend/", console.tenant_suspend, name="suspend"),
    path("tenants/<slug:slug>/resume/", console.tenant_resume, name="resume"),
]
