from django.urls import path

from checklists import signoff_views, template_views, views

app_name = "checklists"

urlpatterns = [
    path("templates/", template_views.template_list, name="template_list"),
    path("templates/import/", template_views.template_import, name="template_import"),
    path("templates/<slug:slug>/", template_views.template_detail, name="template_detail"),
    path("templates/<slug:slug>/edit/", template_views.template_edit, name="template_edit"),
    path("templates/<slug:slug>.yaml", template_views.template_export, name="template_export"),
    path("migration/<slug:slug>/", views.checklist, name="checklist"),
    path("migration/<slug:slug>/assign/", views.bulk_assign, name="bulk_assign"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/tick/", views.item_tick, name="item_tick"),
    path("items/<int:pk>/details/", views.item_details, name="item_details"),
    path("items/<int:pk>/comments/", views.item_comment, name="item_comment"),
    path("phases/<int:pk>/signoff/", signoff_views.phase_signoff, name="phase_signoff"),
    path("phases/<int:pk>/sheet/", signoff_views.phase_sheet, name="phase_sheet"),
    path("signoffs/<int:pk>/revoke/", signoff_views.signoff_revoke, name="signoff_revoke"),
]
