"""Dramatiq orchestration: the only package that knows about the broker (DESIGN §1)."""
