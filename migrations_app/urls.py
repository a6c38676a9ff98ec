from django.urls import path

from migrations_app import views
from migrations_app.demo import card
from migrations_app.people import role_views

app_name = "migrations_app"

urlpatterns = [
    path("", views.migration_list, name="list"),
    path("new/", views.migration_create, name="create"),
    path("<slug:slug>/", views.migration_detail, name="detail"),
    path("<slug:slug>/transition/", views.migration_transition, name="transition"),
    path("<slug:slug>/panels/<slug:panel>/", views.migration_panel, name="panel"),
    path("<slug:slug>/timeline/", views.migration_timeline, name="timeline"),
    path("<slug:slug>/timeline.csv", views.migration_timeline_csv, name="timeline_csv"),
    path("<slug:slug>/demo-provider/", card.demo_provider_mode, name="demo_provider"),
    path("<slug:slug>/people/", role_views.migration_people, name="people"),
    path("<slug:slug>/people/slots/", role_views.migration_slots, name="people_slots"),
    path("<slug:slug>/people/<slug:role>/", role_views.role_set, name="role_set"),
]
