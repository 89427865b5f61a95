"""Who acts: the OS login is recorded as a fact in each audit entry, never whom work is credited to."""

from __future__ import annotations

import getpass


def login_name() -> str:
    """The OS login: a fact in each audit entry (``login``), never whom work is credited to."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a bare container) must not block case work
        return "unknown"


def default_actor() -> str:
    """Who acts where nobody is named and there is no case examiner (a screening results file)."""
    return login_name()
