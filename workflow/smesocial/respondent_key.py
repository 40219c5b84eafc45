"""The secret the respondent key (e.g. a CVR number) is hashed with, and the keyed hash itself.

The ingested table keeps a firm's key only as HMAC-SHA256(secret, normalised key), to recognise
duplicate submissions. A plain or salted sha256 with a published salt is no protection: the
8-digit CVR numbers (9-digit Norwegian organisation numbers) can all be hashed in minutes and
looked up. With a keyed hash whose secret never leaves the machine, the hashes reveal nothing.

Where the secret comes from (`key_secret`):

- the environment variable `KEY_ENV` (SMESOCIAL_RESPONDENT_KEY_SECRET), if set: for every wave;
- else, for a wave marked `synthetic: true` in config/config.yaml only, `DEVELOPMENT_KEY`, a
  published key (here and in the README), so the build runs on a fresh machine: the shipped
  exports are generated data, their "CVR numbers" identify no one;
- else the wave refuses to run, naming the variable and the wave (checked when the workflow
  starts, `check_key_secrets`, and again by the ingest step).

The secret's value is never logged, written or passed as a rule's params (Snakemake records
params in its metadata): the ingest rule passes the variable's name and its step reads the
value. Only stdlib: the workflow imports this module while it is read.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from typing import Any

from smesocial.errors import InputError

KEY_ENV = "SMESOCIAL_RESPONDENT_KEY_SECRET"
# The variable the salted sha256 read before; it is no longer used, and a refusal says so.
RETIRED_ENV = "SMESOCIAL_RESPONDENT_KEY_SALT"
# Public on purpose: synthetic waves only (their keys are generated, not real firms').
DEVELOPMENT_KEY = "smesocial-development-key-v1 (public; synthetic waves only)"
MIN_SECRET_LENGTH = 16
MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
CONFIG_FILE = "config/config.yaml"


def is_synthetic(wave_config: Mapping[str, Any]) -> bool:
    """The wave's `synthetic` flag (the schema requires it; absent counts as real data)."""
    return wave_config.get("synthetic") is True


def key_secret(wave: str, synthetic: bool, environ: Mapping[str, str],
               env_name: str = KEY_ENV) -> tuple[bytes, str]:
    """(secret, where it came from, for the log): $env_name if set, else the development key
    for a synthetic wave; a real wave without the variable raises InputError naming both."""
    secret = environ.get(env_name, "")
    if secret:
        if len(secret) < MIN_SECRET_LENGTH:
            raise InputError(f"${env_name}", f"the secret for hashing the respondent key of wave "
                             f"{wave} is shorter than {MIN_SECRET_LENGTH} characters",
                             expected=f"a long random secret, e.g. from: {MAKE_SECRET}")
        return secret.encode("utf-8"), f"the secret in ${env_name}"
    if synthetic:
        return DEVELOPMENT_KEY.encode("utf-8"), (
            f"the public development key (wave {wave} is marked synthetic and ${env_name} is "
            "not set)")
    retired = (f" (${RETIRED_ENV} is set but no longer read: the key is now an HMAC whose secret "
               f"is ${env_name})" if environ.get(RETIRED_ENV) else "")
    raise InputError(CONFIG_FILE, f"wave {wave} is not marked synthetic, so its respondent keys "
                     f"are hashed with a secret from the environment, but ${env_name} is not "
                     f"set{retired}", expected=f"export {env_name}=<secret> (at least "
                     f"{MIN_SECRET_LENGTH} characters, kept out of the repository, e.g. from: "
                     f"{MAKE_SECRET}); use the same secret for every run whose results are "
                     "compared. Only generated data may say `synthetic: true` "
                     f"(waves.{wave}.synthetic)")


def check_key_secrets(config: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Every configured wave has its secret (checked when the workflow starts, so a real wave
    without one stops the run before any step)."""
    for wave, entry in (config.get("waves") or {}).items():
        key_secret(wave, is_synthetic(entry), environ)


def normalised_key(value: str) -> str:
    """A key as compared: NFKC, no white space, casefolded ('1234 5678' = '12345678')."""
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256 hex digest of the normalised key."""
    if not secret:
        raise ValueError("an empty secret would make the hashed keys reversible")
    return hmac.new(secret, normalised_key(value).encode("utf-8"), hashlib.sha256).hexdigest()
