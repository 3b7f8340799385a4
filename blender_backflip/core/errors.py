"""The one error type the core raises for anything an animator or a user can fix."""


class BackflipError(Exception):
    """A problem with the input, stated so that the reader can fix it (what, which value, what to do)."""
