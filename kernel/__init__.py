"""The shared kernel: what every app may use and that uses no app.

Errors, the API error shape, upload limits, request parsing, the vector cache,
the process's model registry and the Prometheus series of the scoring side.
"""
