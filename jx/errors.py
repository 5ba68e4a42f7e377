"""The one error type of the rules: a bad input, said in short Chinese."""

from __future__ import annotations

# Prefix of an error message when it stands in a cell. A JX function that is
# handed such a cell passes the original message on, so the score table shows
# the root cause instead of "text for a number" at every step of the chain.
CELL_PREFIX = "错误："


class JXInputError(ValueError):
    """A bad input: blank, text for a number, negative, zero denominator, out of range.

    ``str(error)`` is the short Chinese message naming the input, e.g.
    ``编外人数不能为负数``; ``error.cell_text`` is what a worksheet cell shows.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def cell_text(self) -> str:
        return CELL_PREFIX + self.message


def message_in_cell(value: object) -> str | None:
    """The JX error message carried by a cell value, or None."""
    if isinstance(value, str) and value.startswith(CELL_PREFIX):
        return value[len(CELL_PREFIX):]
    return None
