"""Viewsets of the authoring API, registered on the tenant router (policy_admin.api_router)."""
