"""Shared fixtures: the project's real config and Danish codebook, and a writer for tiny exports
in that codebook's layout (so tests exercise the real headers and labels)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smesocial.config import Codebook, Harmonised, load_codebook, load_config, load_harmonised

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config() -> dict[str, Any]:
    return load_config(ROOT / "config" / "config.yaml")


@pytest.fixture(scope="session")
def harmonised() -> Harmonised:
    return load_harmonised(ROOT / "config" / "codebook" / "harmonised.yaml")


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook(ROOT / "config" / "codebook" / "dk_2024.yaml")


@pytest.fixture(scope="session")
def export_header(codebook: Codebook) -> list[str]:
    return [*codebook.meta.values(), *codebook.identifiers, codebook.employees_column,
            *codebook.columns]


@pytest.fixture(scope="session")
def answer_row(codebook: Codebook, export_header: list[str]) -> Callable[..., dict[str, str]]:
    """A complete, valid response; keyword overrides by raw header or by role
    (response_id, status, started, finished, firm, email, cvr, comment, employees)."""
    first_label = {scale: next(label for label, level in labels.items() if level is not None)
                   for scale, labels in codebook.labels.items()}
    item_scale = {"post": "frequency", "important": "agreement", "professionalism": "professionalism",
                  "handling": "handling", "marketing_fulltime": "yes_no",
                  "marketing_team_size": "team_size"}

    def scale_of(variable: str) -> str:
        for prefix, scale in item_scale.items():
            if variable.startswith(prefix):
                return scale
        return "agreement"

    roles = {**{k: v for k, v in codebook.meta.items()}, "firm": "Virksomhedens navn",
             "email": "E-mail", "cvr": "CVR-nummer", "comment": "Kommentarer",
             "employees": codebook.employees_column}

    def make(n: int = 1, **overrides: str) -> dict[str, str]:
        row = {
            codebook.meta["response_id"]: str(1000 + n), codebook.meta["status"]: "Gennemført",
            codebook.meta["started"]: f"2023-12-{1 + n % 28:02d} 10:00:00",
            codebook.meta["finished"]: f"2023-12-{1 + n % 28:02d} 10:12:00",
            "Virksomhedens navn": f"Firma {n} ApS", "E-mail": f"kontakt{n}@firma{n}.dk",
            "CVR-nummer": str(30000000 + n), "Kommentarer": "", codebook.employees_column: "12",
        }
        row.update({column: first_label[scale_of(variable)]
                    for column, variable in codebook.columns.items()})
        for key, value in overrides.items():
            row[roles.get(key, key)] = value
        return row

    return make


@pytest.fixture(scope="session")
def write_export(export_header: list[str]) -> Callable[..., Path]:
    """Write rows (dicts by header) as a ';'-separated UTF-8 export; returns the path."""

    def write(path: Path, rows: list[dict[str, str]], header: list[str] | None = None,
              delimiter: str = ";") -> Path:
        columns = header if header is not None else export_header
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([row.get(c, "") for c in columns])
        return path

    return write
