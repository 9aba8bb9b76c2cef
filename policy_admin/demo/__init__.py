"""Demo data for `manage.py seed_demo`: a realistic example policy and the platform floor."""
