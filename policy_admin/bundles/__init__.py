"""Turning a policy into an engine bundle (builder) and signing it (publishing)."""
