# Mounted at /migrations/<slug>/rollback-hooks/ (golive_site/urls.py).
from django.urls import path

from migrations_app.rollout import hook_views

app_name = "rollback_hooks"

urlpatterns = [
    path("", hook_views.hook_list, name="list"),
    path("<int:hook_id>/", hook_views.hook_edit, name="edit"),
    path("<int:hook_id>/rotate/", hook_views.hook_rotate, name="rotate"),
    path("<int:hook_id>/delete/", hook_views.hook_delete, name="delete"),
]
