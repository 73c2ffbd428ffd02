"""The base of every error that is the user's to fix (bad input, missing model...)."""


class UserError(Exception):
    """Printed as one line by the CLIs; a 4xx or a clear refusal in the services."""


class ModelLoadError(UserError, RuntimeError):
    """A model that cannot be loaded; the message says which and why."""


class RegistryUnavailable(ModelLoadError):
    """The registry could not be reached (as opposed to answering with a refusal)."""
