"""The reference fleet agent: fetches, verifies, persists and serves a signed policy bundle.

Django-free by contract (import-linter): it uses the standard library, `cryptography`
for Ed25519 and the evaluation engine, so an inference server runs exactly the code
that the test console and the suites run. See docs/fleet-agent.md.
"""
