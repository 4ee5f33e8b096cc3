from django.urls import path

from adminpanel import (
    groups_views,
    import_views,
    knowledge_views,
    logs_views,
    settings_views,
    usage_views,
    users_views,
    views,
)

app_name = "adminpanel"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # 利用者管理
    path("users/", users_views.user_list, name="users"),
    path("users/new/", users_views.user_create, name="user_create"),
    path("users/<int:user_id>/", users_views.user_edit, name="user_edit"),
    path("users/<int:user_id>/action/", users_views.user_action, name="user_action"),
    # 一括登録・変更・削除
    path("users/import/", import_views.import_upload, name="user_import"),
    path("users/import/template/", import_views.import_template, name="user_import_template"),
    path("users/import/<str:token>/", import_views.import_preview, name="user_import_preview"),
    path("users/import/<str:token>/passwords/", import_views.import_passwords, name="user_import_passwords"),
    # グループと権限
    path("groups/", groups_views.group_list, name="groups"),
    path("groups/<int:group_id>/", groups_views.group_edit, name="group_edit"),
    # 利用状況
    path("usage/", usage_views.usage_overview, name="usage"),
    path("usage/live/", usage_views.usage_live, name="usage_live"),
    path("usage/export/", usage_views.usage_export, name="usage_export"),
    # ログ
    path("logs/prompts/", logs_views.prompt_logs, name="prompt_logs"),
    path("logs/operations/", logs_views.operation_logs, name="operation_logs"),
    path("exports/", logs_views.export_start, name="export_start"),
    path("exports/<int:job_id>/", logs_views.export_status, name="export_status"),
    path("exports/<int:job_id>/download/", logs_views.export_download, name="export_download"),
    # ナレッジの診断
    path("knowledge/", knowledge_views.knowledge_diagnostics, name="knowledge"),
    # セキュリティ設定・モデル
    path("security/", settings_views.security, name="security"),
    path("models/", settings_views.model_settings, name="models"),
]
