#!/usr/bin/env bash
# The project's entry point: set-up on first use, then build the paper or run the tests.
#   bash workflow/run.sh build [snakemake args...]   rebuild results/ from data/raw/
#   bash workflow/run.sh report [snakemake args...]  the same, then remake results/report.html
#                                                    (a build remakes it only when a step ran)
#   bash workflow/run.sh test  [pytest args...]      lint the workflow, run the test suite
#   bash workflow/run.sh verify                      check results/ against its provenance
# A project virtualenv (.venv) is created from the pinned requirements the first time, and
# re-created whenever those pins change. Needs only python3 (>= 3.11) with venv and pip.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
venv="$repo/.venv"
requirements="workflow/envs/requirements.txt"
constraints="workflow/envs/constraints.txt"
stamp="$venv/.smesocial-pins.sha256"

python_bin="${PYTHON:-python3}"

pins_digest() {
  cat "$requirements" "$constraints" pyproject.toml | sha256sum | cut -d' ' -f1
}

ensure_venv() {
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$(pins_digest)" ]]; then
    return
  fi
  if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "smesocial: needs Python >= 3.11 as '$python_bin' (set PYTHON=/path/to/python3.11)." >&2
    exit 2
  fi
  echo "smesocial: setting up $venv from $requirements (first run, or pins changed) ..." >&2
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  pip_logged install --upgrade "pip>=23"
  pip_logged install -r "$requirements" -c "$constraints"
  pip_logged install --no-deps -e .
  # The notebooks run on a kernel named after the project, pointing at this venv.
  "$venv/bin/python" -m ipykernel install --prefix "$venv" --name smesocial \
    --display-name "smesocial (.venv)" >/dev/null
  pins_digest >"$stamp"
}

# pip's chatter goes to a log; on failure the log is shown and set-up stops.
pip_logged() {
  local pip_log="$venv/pip-install.log"
  if ! "$venv/bin/python" -m pip --disable-pip-version-check "$@" >>"$pip_log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$pip_log" >&2
    echo "smesocial: 'pip $*' failed (full log: $pip_log)." >&2
    exit 1
  fi
}

cmd="${1:-}"
shift || true
report_option=()
if [[ "$cmd" == report ]]; then
  cmd=build
  report_option=(--report)
fi
case "$cmd" in
  build)
    ensure_venv
    export PATH="$venv/bin:$PATH"
    # Fixed hash seed and single-threaded BLAS: the same bytes on every run.
    export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    # smesocial.build runs Snakemake: checks the config's YAML and any lock first, shows one
    # line per finished step (everything else in results/logs/snakemake.log), and ends in one
    # clear line: the Snakemake report and where the results are, or what stopped the build and
    # what to do (removing the results it would have remade). The Snakemake report is remade
    # when a step ran or it is out of date (a second Snakemake start-up: not on a no-op), and
    # always with `report`. Options that build nothing (--dry-run, --unlock, --summary ...)
    # show Snakemake's own output and make no report.
    exec python -m smesocial.build "${report_option[@]}" \
      snakemake --cores "${SMESOCIAL_CORES:-2}" --printshellcmds --rerun-incomplete "$@"
    ;;
  test)
    ensure_venv
    export PATH="$venv/bin:$PATH"
    export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    # The workflow's own conventions first: Snakemake's linter and its formatter.
    lint_log="$(mktemp)"
    snakemake --lint >"$lint_log" 2>&1 \
      || { cat "$lint_log" >&2; rm -f "$lint_log"; echo "smesocial: snakemake --lint found problems (above)" >&2; exit 1; }
    rm -f "$lint_log"
    snakefmt --check Snakefile workflow/rules/ \
      || { echo "smesocial: run 'snakefmt Snakefile workflow/rules/' to format the workflow" >&2; exit 1; }
    python -m pytest "$@"
    ;;
  setup)
    ensure_venv
    ;;
  verify)
    ensure_venv
    # Re-hashes every file results/provenance.json records; exit 1 when anything differs.
    "$venv/bin/python" -m smesocial.verify "$@"
    ;;
  *)
    echo "usage: bash workflow/run.sh {build|report|test|setup|verify} [args...]" >&2
    exit 2
    ;;
esac
