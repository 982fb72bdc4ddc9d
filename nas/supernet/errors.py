"""Temporary home of SupernetError until nas/errors.py can take it."""

from __future__ import annotations

from nas.errors import NasError


class SupernetError(NasError, ValueError):
    """A supernet that cannot do what was asked (an architecture outside its space, a checkpoint of another space)."""
