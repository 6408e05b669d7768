"""Conformance failures: what a suite test raises when the target does not do what is required.

A `ConformanceFailure` carries a complete, redacted explanation (the unmet expectations and the
exchange that showed them). pytest prints it as that text alone: the harness's own source lines
are of no use to the person reading why a target failed (see `harness.requirements_plugin`).
"""

from __future__ import annotations


class ConformanceFailure(AssertionError):
    """The target answered differently from what a requirement states; the message says how."""


# How a failure because the target stopped answering begins (see harness.failure_plugin); the
# grading tells it from a conformance failure by these words.
UNAVAILABLE_HEADING = "target unavailable"
