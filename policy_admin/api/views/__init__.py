"""Viewsets of the authoring API, registered on the tenant router (config.api_router)."""
