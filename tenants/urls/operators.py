from django.urls import path

from tenants.views import operators

app_name = "operators"
urlpatterns = [
    path("", operators.operator_list, name="list"),
    path("new/", operators.operator_create, name="new"),
    path("<int:operator_id>/", operators.operator_detail, name="detail"),
    path("<int:operator_id>/deactivate/", operators.operator_deactivate, name="deactivate"),
    path("<int:operator_id>/activate/", operators.operator_activate, name="activate"),
    path("<int:operator_id>/password/", operators.operator_reset_password, name="reset_password"),
]
