app_name = "checklists"

urlpatterns: list = []
