"""The command line's one door to the user's settings file.

Commands read the settings here and pass what they need (the intake pixel limit, the examiner's
name, codec folders, tiling) down as arguments; nothing below the front ends reads the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from examiner.core.settings import Settings
from examiner.errors import ExaminerError

if TYPE_CHECKING:
    from examiner.core.case import Case


def user_settings() -> Settings:
    """The settings file's values, or the defaults where there is none.

    A broken file raises :class:`ExaminerError` naming it: an examination must not quietly run
    under other limits than the examiner set.
    """
    return Settings.load()


def acting_person(explicit: str | None, settings: Settings | None = None) -> str | None:
    """Who the audit log names: ``--actor``, else the examiner name from ``settings`` (read from
    the file when not given).

    ``None`` leaves it to the core's fallback (the login name). An unreadable settings file
    does not block case work here: the name is a label, not a limit.
    """
    if explicit:
        return explicit
    if settings is None:
        try:
            settings = Settings.load()
        except ExaminerError:
            return None
    return settings.examiner_name.strip() or None


ACTOR_HELP = "the person credited with this work (default: the case's examiner; the login is only recorded as a fact)"


def add_actor_flag(parser: Any) -> None:
    """``--actor NAME`` on a command that writes to a case."""
    parser.add_argument("--actor", metavar="NAME", default=None, help=ACTOR_HELP)


# How long a command waits for another program (the window, a second command) that is writing
# to the same case before it gives up with a message.
LOCK_WAIT_S = 120.0


def lock_wait() -> Any:
    """Wait for other writers, saying so once on stderr."""
    import sys

    from examiner.core.case_tx import LockWait

    return LockWait(LOCK_WAIT_S, lambda message: print(f"examiner: {message}", file=sys.stderr, flush=True))


def case_options(actor: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for :meth:`Case.open`: who acts, the intake limit, and how long to wait
    for another writer.

    Inside a case the acting person is the one named with ``--actor``, else the case's examiner
    (the core's default); the settings' examiner name is for new cases and results files, so
    that whoever's settings are loaded, work in a case is never credited to someone else.
    """
    s = settings if settings is not None else user_settings()
    return {"actor": (actor or "").strip() or None, "max_pixels": s.max_pixels, "lock_wait": lock_wait()}


def open_case(
    path: str | Path, settings: Settings | None = None, actor: str | None = None, **kwargs: Any
) -> Case:
    """:meth:`Case.open` with the acting person and intake limit the settings give."""
    from examiner.core.case import Case

    return Case.open(path, **case_options(actor, settings), **kwargs)
