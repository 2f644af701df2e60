"""The one exception the template engine lets escape, worded exactly like Go's text/template errors."""

from __future__ import annotations


class TemplateError(Exception):
    """A parse or execution error: ``template: NAME:LINE: …`` (parse) or ``template: NAME:LINE:COL: …``
    (exec)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GoError(Exception):
    """Raised by template functions; the executor wraps it as ``error calling NAME: MESSAGE`` like Go's
    evalCall."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
