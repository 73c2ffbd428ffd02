"""The base of every error that is the user's to fix (bad input, missing model...)."""


class UserError(Exception):
    """Printed as one line by the CLIs; a 4xx or a clear refusal in the services."""
