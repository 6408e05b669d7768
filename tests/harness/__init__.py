"""Tests of the harness the suites run on."""
