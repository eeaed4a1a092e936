"""The root of prep's errors: ``PrepError`` (prep could not do what was asked; the message says
which file and why), with ``PlanError`` (the inputs cannot be planned for) under it."""

from __future__ import annotations


class PrepError(Exception):
    """prep could not carry out its plan, or plan at all; the message says which file and why."""
