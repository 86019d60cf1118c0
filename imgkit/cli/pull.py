"""Placeholder: filled in by the pull-into-store issue."""


def register(commands) -> None:
    """Add no commands yet."""
