"""One exception type for bad input, so every entry point can print it as one readable paragraph."""

from __future__ import annotations

from collections.abc import Sequence


class InputError(Exception):
    """Bad input: names the file, where in it (row/column), what is missing or was found instead,
    and what was expected."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        column: str | None = None,
        rows: Sequence[int] | None = None,
        found: object = None,
        expected: str | None = None,
        missing: object = None,
    ) -> None:
        self.file = str(file)
        self.problem = problem
        self.column = column
        self.rows = list(rows) if rows is not None else None
        self.found = found
        self.expected = expected
        self.missing = missing  # what should be there and is not (columns, keys), not "found"
        super().__init__(self.message())

    def message(self) -> str:
        parts = [f"{self.file}: {self.problem}"]
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
            parts.append(f"row(s) {shown}{more}")
        if self.missing is not None:
            parts.append(f"missing {self.missing!r}")
        if self.found is not None:
            parts.append(f"found {self.found!r}")
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        return "; ".join(parts) + "."


class NotEstimable(ValueError):
    """A test's assumptions fail on these data (empty segment, constant item, separation...).

    The message is the note the battery writes in the row instead of numbers."""
