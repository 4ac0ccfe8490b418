from django.urls import path

from retained_services import views

app_name = "retained"
urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("<int:pk>/", views.dataset_detail, name="dataset"),
    path("<int:pk>/final/", views.dataset_final, name="final"),
    path("<int:pk>/reopen/", views.dataset_reopen, name="reopen"),
]
