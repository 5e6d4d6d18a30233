"""The JSON contract as a file: docs/schema/verify.schema.json describes
`verify --json` (provenance.verify/1). Real outputs of the command line are
validated against it; the top level allows no other property, so a field
added to the report without a schema update fails here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from provenance.trust.store import TrustStore
from provenance.verification.report import SCHEMA, Verdict
from provenance.verification.verifier import verify
from tests.conftest import CLI, REPO
from tests.helpers import tampered_copy

SCHEMA_FILE = REPO / "docs" / "schema" / "verify.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def verify_json(run: CLI, path: Path, *extra: str, exit_code: int) -> dict[str, Any]:
    result = run("verify", path, "--json", *extra)
    assert result.exit_code == exit_code, result.output
    data = json.loads(result.output)
    assert isinstance(data, dict)
    return data


def test_the_schema_names_the_contract(validator: jsonschema.Draft202012Validator) -> None:
    assert validator.schema["properties"]["schema"] == {"const": SCHEMA}
    assert validator.schema["additionalProperties"] is False
    assert set(validator.schema["$defs"]["verdict"]["enum"]) == {v.value for v in Verdict}


def test_signed(run: CLI, signed_clip: Path, validator: jsonschema.Draft202012Validator) -> None:
    data = verify_json(run, signed_clip, exit_code=0)
    assert data["verdict"] == "verified" and data["signer"]["common_name"] == "Jane Doe"
    validator.validate(data)
    # every field the schema requires is what to_dict emits, and nothing else
    assert set(data) == set(validator.schema["required"])


def test_tampered(run: CLI, signed_clip: Path, tmp_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    data = verify_json(run, tampered_copy(signed_clip, tmp_path / "tampered.mp4"), exit_code=1)
    assert data["verdict"] == "tampered" and any(s["kind"] == "failure" for s in data["status"])
    validator.validate(data)


def test_unsigned(run: CLI, make_clip: Callable[..., Path], validator: jsonschema.Draft202012Validator) -> None:
    data = verify_json(run, make_clip("mp4"), exit_code=4)
    assert data["verdict"] == "no_credentials" and data["signer"] is None
    validator.validate(data)


def test_error(run: CLI, tmp_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\xff" * 64)
    data = verify_json(run, garbage, exit_code=5)
    assert data["verdict"] == "error" and "truncated" in data["error"]
    validator.validate(data)


def test_chain_and_policy(
    run: CLI, signed_clip: Path, tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    resigned = tmp_path / "resigned.mp4"
    assert run("sign", signed_clip, "-o", resigned).exit_code == 0
    data = verify_json(run, resigned, "--expect-org", "Someone Else", exit_code=7)
    assert data["verdict"] == "wrong_signer" and data["policy_unmet"] == ["organization"]
    assert data["ingredients"] and data["ingredients"][0]["relationship"] == "parentOf"
    assert data["chain_summary"] and data["chain_verdict"] == "verified"
    validator.validate(data)


def test_thumbnail(signed_clip: Path, trust: TrustStore, validator: jsonschema.Draft202012Validator) -> None:
    data = json.loads(json.dumps(verify(signed_clip, trust=trust).to_dict(thumbnail=True)))
    assert data["thumbnail"]["mime_type"] == "image/jpeg"
    validator.validate(data)


def test_a_field_the_schema_does_not_know_fails(
    signed_clip: Path, trust: TrustStore, validator: jsonschema.Draft202012Validator
) -> None:
    data = json.loads(json.dumps(verify(signed_clip, trust=trust).to_dict()))
    validator.validate(data)
    with pytest.raises(jsonschema.ValidationError, match="additional"):
        validator.validate({**data, "new_field": 1})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**data, "verdict": "fine"})
    missing = dict(data)
    del missing["warnings"]
    with pytest.raises(jsonschema.ValidationError, match="warnings"):
        validator.validate(missing)


def test_recovered(run: CLI, tmp_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    from provenance.media.video import make_sample_clip

    original = make_sample_clip(tmp_path / "original.mp4", seconds=4.0)
    repository = tmp_path / "repository.sqlite"
    signed = tmp_path / "signed.mp4"
    assert run("sign", original, "-o", signed, "--register", repository).exit_code == 0
    # the unsigned original has the signed clip's content and no credentials
    data = verify_json(run, original, "--lookup", repository, exit_code=8)
    assert data["verdict"] == "recovered" and data["recovery"]["candidates"][0]["accepted"] is True
    validator.validate(data)
