"""The monthly return's pages, namespaced ``returns`` and mounted at /returns/."""

from django.urls import path

from contracts import returns_views as views

app_name = "returns"

urlpatterns = [
    path("", views.return_list, name="list"),
    path("sign-off/", views.bulk_sign_off, name="bulk-sign-off"),
    path("open/", views.open_return, name="open"),
    path("<int:pk>/", views.return_detail, name="detail"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/query/", views.raise_query, name="query"),
    path("<int:pk>/answer/", views.answer, name="answer"),
    path("<int:pk>/sign-off/", views.sign_off, name="sign-off"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/entries/<int:entry_id>/", views.entry_page, name="entry"),
    path("<int:pk>/entries/<int:entry_id>/verdict/", views.entry_verdict, name="verdict"),
]
