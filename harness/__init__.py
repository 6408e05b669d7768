"""What the conformance suites run on: configuration, token, HTTP client, redaction, users under
test, requirement labelling and grading, and the conformance summary."""
