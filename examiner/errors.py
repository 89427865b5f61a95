"""Errors the user is meant to read.

Every problem the user can cause or meet (bad file, tampered case, missing weights) is an
:class:`ExaminerError`. Front ends show its message as one line; anything else is a bug and
is reported as an internal error.
"""

from __future__ import annotations

from pathlib import Path


class ExaminerError(Exception):
    """A problem with a clear, user-facing message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class EvidenceError(ExaminerError):
    """An image file that cannot be taken in: names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CaseError(ExaminerError):
    """A case file that cannot be opened, written or trusted."""


class IntegrityError(CaseError):
    """A hash or audit-chain check failed."""

    exit_code = 3


class CodecError(ExaminerError):
    """A codec pack or run failed."""


class WeightsError(CodecError):
    """Weight files that are missing, mis-hashed or unsafe to load."""


class ToolMissingError(ExaminerError):
    """An optional external program (tesseract, cjxl, ...) is not installed."""


class Cancelled(ExaminerError):
    """The user cancelled a long-running task."""

    exit_code = 130

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(message)
