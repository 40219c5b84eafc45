"""Snakemake entry: one draw of the ensemble -> its synthetic export (checked to reproduce
every followed published figure through the pipeline's own ingest and clean)."""

from pathlib import Path

from smesocial.errors import InputError
from smesocial.runner import log, read_everything, run_step
from smesocial.synthetic.core import VerificationError, generator_module, prepared_draw


def step(snakemake) -> None:
    draw = snakemake.params.draw
    params = snakemake.input.params
    generator = generator_module(params)
    log.info("draw %s: seed %d, variant %s (%s)", draw["draw"], draw["seed"], draw["variant"],
             draw["assumptions"] or "as shipped")
    try:
        # The generator runs the pipeline's own ingest and clean on the draw with these sections
        # as its project config: it depends on all of them (logged as read).
        context, allocation = prepared_draw(generator, params, draw["assumptions"],
                                            read_everything(snakemake.params.config))
        result = generator.generate(params, draw["seed"], context=context, allocation=allocation)
    except VerificationError as exc:
        checks = " ".join(str(exc).split())  # one paragraph, whatever the generator wrapped
        raise InputError(params, f"draw {draw['draw']} (seed {draw['seed']}, variant "
                         f"{draw['variant']}) does not reproduce the report: {checks}",
                         expected="every followed published figure reproduced; change the "
                         "variant's knobs in config ensemble.variants") from exc
    Path(snakemake.output[0]).parent.mkdir(parents=True, exist_ok=True)
    Path(snakemake.output[0]).write_bytes(result.data)
    log.info("draw %s: %d bytes, sha256 %s", draw["draw"], len(result.data), result.sha256)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
