"""The REST API inference servers call (docs/fleet.md): bundles, signing keys, status."""
