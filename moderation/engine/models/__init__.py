"""Model adapters: each loads offline and records the pin its vectors or scores depend on."""
