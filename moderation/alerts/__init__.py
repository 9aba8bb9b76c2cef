"""Alert rules per tenant, delivered by email and signed webhook when their state changes."""
