"""People in golive: who holds which role on a migration, user accounts and contacts.

Every write is a service here (lock, check "already done?", write, audit); the pages in
`views.py` and the JSON API in `api.py` call the same ones."""
