# Application-facing flag endpoints (OFREP, Unleash client API), mounted at the site root.
urlpatterns: list = []
