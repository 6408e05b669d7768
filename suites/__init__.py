"""The conformance suites users run against a target."""
