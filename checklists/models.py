# Checklist templates, items, owners and sign-offs.
