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


class TemplateLimitError(TemplateError):
    """A resource limit (limits.py) stopped a hostile or runaway template. ``reason`` is the message without
    the location; an error raised where no node is at hand (``located`` false) gets the location of the
    ``include``/``tpl`` call that led there. Outer calls pass it on unchanged, without Go's
    ``error calling include: …`` wrapping at every level."""

    def __init__(self, message: str, *, reason: str = "", located: bool = True) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.located = located
