"""The one error type of the data layer: every message names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Bad input data, reported with the file it came from and what is wrong.

    Args:
        path: the file (or event prefix) the problem was found in.
        problem: a sentence saying what is wrong, with counts and examples.

    The message reads ``"<path>: <problem>"``, on one line, so a user can open the file at once.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        # One line, always: a parser's multi-line message is joined.
        self.problem = " ".join(part.strip() for part in str(problem).strip().splitlines())
        super().__init__(f"{self.path}: {self.problem}")
