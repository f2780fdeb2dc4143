"""Marker for messages translated later, and the error that carries one to the user."""


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for extraction without translating it now."""
    return message


class UserError(ValueError):
    """Something a person sent that cannot be done: `message` is a msgid translated where it
    is shown, `params` fill it in, `status` is the HTTP status that goes with it."""

    def __init__(self, message: str, status: int = 422, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.status = status
