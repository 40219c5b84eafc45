"""What every Snakemake entry script shares: logging to the rule's log, one readable paragraph
on bad input instead of a traceback, and no partial outputs left behind."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smesocial.errors import InputError

log = logging.getLogger("smesocial")


def configure_logging(log_file: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )


def remove_outputs(outputs: list[str]) -> None:
    for output in outputs:
        path = Path(output)
        if path.is_file():
            path.unlink()


def run_step(snakemake: Any, step: Callable[[Any], None]) -> None:
    """Run `step(snakemake)`; on InputError log the message, delete outputs, exit 1."""
    log_files = list(getattr(snakemake, "log", []) or [])
    configure_logging(log_files[0] if log_files else None)
    try:
        step(snakemake)
    except InputError as exc:
        remove_outputs(list(snakemake.output))
        log.error("%s", exc.message())
        sys.exit(1)
