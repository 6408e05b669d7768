"""Property suite: schemathesis over schemas/openapi.yaml, generated requests and stateful runs."""
