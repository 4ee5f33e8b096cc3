from django.urls import path

from chat import views

app_name = "chat"
urlpatterns = [
    path("", views.chat_home, name="home"),
    path("send/", views.send, name="send"),
    path("counter/", views.counter, name="counter"),
    path("messages/<int:message_id>/feedback/", views.feedback, name="feedback"),
    path("<int:conversation_id>/", views.conversation_page, name="conversation"),
    path("<int:conversation_id>/rename/", views.rename, name="rename"),
    path("<int:conversation_id>/delete/", views.delete, name="delete"),
]
