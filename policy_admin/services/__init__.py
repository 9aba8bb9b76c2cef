"""Writes of the policy-authoring app. Views, serializers and tasks call these, never the ORM."""
