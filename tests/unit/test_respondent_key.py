"""The respondent key's secret: from the environment, or the public development key for a
synthetic wave only; a real wave without it refuses to run; the keyed hash resists the brute
force a published salt allowed."""

from __future__ import annotations

import copy
import hashlib
import hmac

import pandas as pd
import pytest

from smesocial.errors import InputError
from smesocial.ingest import build_ingested
from smesocial.readers import read_export
from smesocial.respondent_key import (DEVELOPMENT_KEY, KEY_ENV, MIN_SECRET_LENGTH, RETIRED_ENV,
                                      check_key_secrets, is_synthetic, key_secret, keyed_hash)

SECRET = "7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e"


def test_the_secret_in_the_environment_is_used_for_any_wave():
    for synthetic in (True, False):
        secret, origin = key_secret("dk_2024", synthetic, {KEY_ENV: SECRET})
        assert secret == SECRET.encode()
        assert origin == f"the secret in ${KEY_ENV}" and SECRET not in origin


def test_a_synthetic_wave_without_the_variable_uses_the_public_development_key():
    secret, origin = key_secret("dk_2024", True, {})
    assert secret == DEVELOPMENT_KEY.encode()
    assert "public development key" in origin and "dk_2024 is marked synthetic" in origin
    assert key_secret("dk_2024", True, {KEY_ENV: ""})[0] == DEVELOPMENT_KEY.encode()  # unset


def test_a_real_wave_without_the_variable_refuses_naming_it_and_the_wave():
    with pytest.raises(InputError) as err:
        key_secret("dk_2026", False, {"HOME": "/root"})
    message = err.value.message()
    assert message.startswith("config/config.yaml: wave dk_2026 is not marked synthetic")
    assert f"${KEY_ENV} is not set" in message and f"export {KEY_ENV}=<secret>" in message
    assert "waves.dk_2026.synthetic" in message
    assert RETIRED_ENV not in message


def test_the_retired_salt_variable_is_named_as_no_longer_read():
    with pytest.raises(InputError) as err:
        key_secret("dk_2026", False, {RETIRED_ENV: "an-old-salt-value-1234"})
    assert f"${RETIRED_ENV} is set but no longer read" in err.value.problem
    assert "an-old-salt-value-1234" not in err.value.message()


def test_a_short_secret_is_refused_without_showing_it():
    short = "x" * (MIN_SECRET_LENGTH - 1)
    with pytest.raises(InputError, match=f"shorter than {MIN_SECRET_LENGTH} characters") as err:
        key_secret("no_2010", True, {KEY_ENV: short})
    assert short not in err.value.message()
    assert key_secret("no_2010", True, {KEY_ENV: "x" * MIN_SECRET_LENGTH})[0] == b"x" * 16


def test_start_up_check_passes_the_shipped_synthetic_waves_and_stops_a_real_one(config):
    assert all(is_synthetic(entry) for entry in config["waves"].values())
    check_key_secrets(config, {})  # the shipped build runs on a fresh machine
    real = copy.deepcopy(config)
    real["waves"]["no_2010"]["synthetic"] = False
    with pytest.raises(InputError, match="wave no_2010 is not marked synthetic"):
        check_key_secrets(real, {})
    check_key_secrets(real, {KEY_ENV: SECRET})
    del real["waves"]["no_2010"]["synthetic"]  # absent: real data
    with pytest.raises(InputError, match="wave no_2010 is not marked synthetic"):
        check_key_secrets(real, {})


def test_keyed_hash_is_hmac_sha256_of_the_normalised_key():
    expected = hmac.new(SECRET.encode(), b"dk38405357", hashlib.sha256).hexdigest()
    assert keyed_hash(SECRET.encode(), "DK 3840 5357") == expected
    assert keyed_hash(SECRET.encode(), "dk38405357") == expected
    with pytest.raises(ValueError, match="empty secret"):
        keyed_hash(b"", "38405357")


def test_published_strings_do_not_recover_keys_hashed_with_the_secret(
        tmp_path, codebook, harmonised, answer_row, write_export):
    """The attack the salted sha256 allowed: everything published (the repository's keys and
    salts) hashed with every candidate key. Under the environment's secret no hash is found;
    under the development key (synthetic waves) every one is, which is why real data need the
    secret."""
    cvrs = [str(38405350 + n) for n in range(5)]
    path = write_export(tmp_path / "export.csv",
                        [answer_row(n, cvr=cvr) for n, cvr in enumerate(cvrs, start=1)])
    raw = read_export(path, codebook)

    def hashes(secret: bytes) -> set[str]:
        ingested = build_ingested(raw, codebook, harmonised, source=str(path), secret=secret,
                                  test_markers=[])
        return set(ingested["respondent_key_hash"])

    published = ["smesocial-respondent-key-v1", DEVELOPMENT_KEY]
    # The attacker's table: the CVRs (in reality all 10^8) under every published string.
    table = {hashlib.sha256(f"{salt}\x1f{cvr}".encode()).hexdigest() for salt in published
             for cvr in cvrs}
    table |= {keyed_hash(salt.encode(), cvr) for salt in published for cvr in cvrs}
    assert len(hashes(SECRET.encode())) == len(cvrs)
    assert not hashes(SECRET.encode()) & table
    assert hashes(DEVELOPMENT_KEY.encode()) <= table


def test_duplicates_are_still_found_by_the_keyed_hash(tmp_path, codebook, harmonised, answer_row,
                                                      write_export):
    rows = [answer_row(1, cvr="38405357"), answer_row(2, cvr="3840 5357"), answer_row(3)]
    path = write_export(tmp_path / "export.csv", rows)
    ingested = build_ingested(read_export(path, codebook), codebook, harmonised,
                              source=str(path), secret=SECRET.encode(), test_markers=[])
    keys = ingested["respondent_key_hash"]
    assert keys[0] == keys[1] != keys[2]
    assert pd.Series(keys).duplicated(keep=False).tolist() == [True, True, False]
