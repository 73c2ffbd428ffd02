"""The base of every error that is the user's to fix (bad input, missing model...)."""

from __future__ import annotations

from pydantic import ValidationError


class UserError(Exception):
    """Printed as one line by the CLIs; a 4xx or a clear refusal in the services."""


class ModelLoadError(UserError, RuntimeError):
    """A model that cannot be loaded; the message says which and why."""


class RegistryUnavailable(ModelLoadError):
    """The registry could not be reached (as opposed to answering with a refusal)."""


class BadInput(UserError, ValueError):
    """A request the caller must fix; the services answer it with 422 and this message."""


class NotServed(Exception):
    """What the request asks for is not served here now (a challenger route with no challenger
    loaded); the services answer 404 with this message, which says why."""


class NotReady(Exception):
    """A service that cannot answer yet (no model, no policy, no backend); the services answer 503.

    The message is the whole answer, reason included: domain code words it, the
    HTTP kit only chooses the status.
    """


def one_line(exc: ValidationError, *prefix: str, whole: str = "value") -> str:
    """The first problem pydantic found, as ``dotted.field: message`` for an error line.

    ``prefix`` goes before the field's path (the section a value came from); ``whole``
    names the value when the problem is with all of it rather than one field."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in (*prefix, *first["loc"])) or whole
    return f"{field}: {first['msg']}"
