"""Typed errors for objects a transform cannot turn into a valid result.

Each names the offending field as a dotted path, so the syncer can report it on the SyncStatus
and keep serving the other objects.
"""

from __future__ import annotations


class TransformError(ValueError):
    """An object the transform refuses; `field` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class MissingFieldError(TransformError):
    """A field the transform needs is absent or empty."""


class InvalidFieldError(TransformError):
    """A field is present but of the wrong type or shape."""


class ReservedNameError(TransformError):
    """An upstream name that would collide with a name the syncer maps another object to."""


class UnknownNamespaceError(TransformError):
    """A downstream namespace with no known locator, so its upstream namespace is unknown."""


class InvalidLocatorError(TransformError):
    """A namespace locator annotation that is missing or not a locator."""
