"""Exceptions that carry a message meant for the user, not a traceback."""


class BioscopeError(Exception):
    """Base class of every error bioscope raises on purpose."""


class InputError(BioscopeError, ValueError):
    """An input (file, array, argument) is missing, malformed or of the wrong shape.

    The message names the offending input and says what was expected.
    """


def naming(source: object, error: BioscopeError) -> BioscopeError:
    """``error``, its message led by ``source`` (a file) unless it names it already.

    Example:
        >>> str(naming("a.tif", InputError("the image is constant")))
        'a.tif: the image is constant'
    """
    if str(source) in str(error):
        return error
    return type(error)(f"{source}: {error}")


class BioscopeWarning(UserWarning):
    """Something in the input looks wrong, but a result is still given (e.g. an empty field).

    The command line prints it as one ``bioscope: warning: ...`` line.
    """
