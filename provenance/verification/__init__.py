"""Verification: the verifier, its report, identity policies and the verdict rules."""
