"""Pages of the contracts app, namespaced ``contracts``."""

from django.urls import path

from contracts import views

app_name = "contracts"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", views.mark_read, name="notification-read"),
    path("notifications/read-all/", views.mark_all_read, name="notifications-read-all"),
]
