"""The people of an organisation, mounted at /people/."""

from django.urls import path

from identity import views

app_name = "people"

urlpatterns = [
    path("", views.people_list, name="list"),
    path("invite/", views.invite, name="invite"),
    path("<int:user_id>/", views.person, name="person"),
    path("<int:user_id>/role/", views.change_role, name="role"),
    path("<int:user_id>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:user_id>/reactivate/", views.reactivate, name="reactivate"),
    path("invitations/<int:pk>/withdraw/", views.withdraw_invitation, name="withdraw"),
    path("invitations/<int:pk>/send-again/", views.send_invitation_again, name="send-again"),
    path("join/done/", views.joined, name="joined"),
    path("join/<str:token>/", views.join, name="join"),
]
