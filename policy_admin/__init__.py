"""The policy-authoring app: policies, rules, versions, channels, the fleet API, the audit log."""
