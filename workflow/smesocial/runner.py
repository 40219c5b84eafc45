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


class ConfigAccessError(AttributeError):
    """A script read `snakemake.config`: a programming error, not bad input."""


class ParamsOnly:
    """The job's `snakemake` object without `config`.

    Snakemake reruns a job when its declared params or inputs change, never when a config key
    it did not declare changes; a script that read `snakemake.config` would then keep a stale
    result. So a script sees configuration only through `snakemake.params` (filled from config by
    the rule: common.smk `config_subset`) and reading `.config` stops the job at once.
    """

    def __init__(self, snakemake: Any) -> None:
        self._snakemake = snakemake

    def __getattr__(self, name: str) -> Any:
        if name == "config":
            raise ConfigAccessError(
                f"rule {getattr(self._snakemake, 'rule', '?')}: the script read snakemake.config; "
                "declare the keys it needs as the rule's params (config_subset in "
                "workflow/rules/common.smk) and read snakemake.params instead")
        return getattr(self._snakemake, name)


def run_step(snakemake: Any, step: Callable[[Any], None]) -> None:
    """Run `step(snakemake)` with config hidden (ParamsOnly); on InputError log the message,
    delete outputs, exit 1."""
    log_files = list(getattr(snakemake, "log", []) or [])
    configure_logging(log_files[0] if log_files else None)
    try:
        step(ParamsOnly(snakemake))
    except (InputError, ConfigAccessError) as exc:  # str(InputError) is its one paragraph
        remove_outputs(list(snakemake.output))
        log.error("%s", exc)
        sys.exit(1)
