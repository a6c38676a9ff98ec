from django.urls import path

from migrations_app.people import contact_views, preference_views, role_views, views

app_name = "people"

urlpatterns = [
    path("", views.user_list, name="list"),
    path("new/", views.user_create, name="create"),
    path("me/", preference_views.my_settings, name="preferences"),
    path("search/", role_views.person_search, name="search"),
    path("contacts/", contact_views.contact_list, name="contacts"),
    path("contacts/new/", contact_views.contact_edit, name="contact_create"),
    path("contacts/<int:pk>/", contact_views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", contact_views.contact_delete, name="contact_delete"),
    path("u/<str:username>/", views.user_edit, name="edit"),
    path("u/<str:username>/password/", views.user_password, name="password"),
]
