"""The public API: what `import provenance` offers, and that its objects are
reusable from many threads and many processes."""

from __future__ import annotations

import functools
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

import provenance
from provenance import KeySigner, TrustStore, Verdict, sign, verify
from provenance.identity.pki import DevPKI
from tests.helpers import tampered_copy


def test_every_public_name_is_exported_and_documented() -> None:
    for name in provenance.__all__:
        obj = getattr(provenance, name)
        if callable(obj) and not name.endswith("Error") and name != "ExitCode":
            assert obj.__doc__, f"provenance.{name} has no docstring"
    assert {"sign", "verify", "TrustStore", "KeySigner", "Verdict", "VerificationReport"} <= set(provenance.__all__)


def test_package_ships_py_typed() -> None:
    assert (Path(provenance.__file__).parent / "py.typed").is_file()


def test_trust_store_pickles_and_still_names_its_sources(trust: TrustStore, signer: KeySigner) -> None:
    copy = pickle.loads(pickle.dumps(trust))
    assert copy == trust
    assert copy.vouching_source(signer.chain) == "dev root"
    assert copy.c2pa_settings() == trust.c2pa_settings()


def test_signer_refuses_to_pickle(signer: KeySigner) -> None:
    # The private key never leaves the process by accident; workers load their own.
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_one_signer_and_one_trust_store_shared_by_many_threads(
    make_clip, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    clips = [make_clip("mp4", name=f"in{i}.mp4") for i in range(8)]

    def sign_then_verify(i: int) -> tuple[str, Verdict, str | None]:
        out = sign(clips[i], tmp_path / f"out{i}.mp4", signer=signer, title=f"clip {i}")
        report = verify(out.output, trust=trust)
        return report.title or "", report.verdict, report.signer.trusted_by if report.signer else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(sign_then_verify, range(8)))
    assert results == [(f"clip {i}", Verdict.VERIFIED, "dev root") for i in range(8)]


# --- process pool: the trust store is pickled, each worker loads its signer once

_worker_signer: KeySigner | None = None
_signer_loads = 0


def _load_signer(key: Path, chain: Path) -> None:
    global _worker_signer, _signer_loads
    _worker_signer = KeySigner.from_files(key=key, chain=chain)
    _signer_loads += 1


def _sign_in_worker(src: Path, dst: Path) -> tuple[str, int]:
    assert _worker_signer is not None
    result = sign(src, dst, signer=_worker_signer)
    return result.manifest_id, _signer_loads


def test_sign_and_verify_from_a_process_pool(make_clip, pki: DevPKI, trust: TrustStore, tmp_path: Path) -> None:
    clips = [make_clip("mp4", name=f"in{i}.mp4") for i in range(4)]
    outs = [tmp_path / f"signed{i}.mp4" for i in range(4)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=2, mp_context=ctx, initializer=_load_signer, initargs=(pki.signer_key, pki.chain)
    ) as pool:
        signed = list(pool.map(_sign_in_worker, clips, outs))
        assert all(mid.startswith("urn:") for mid, _ in signed)
        assert all(loads == 1 for _, loads in signed)  # the key was read once per worker, not per file
        tampered = tampered_copy(outs[0], tmp_path / "tampered.mp4")
        reports = list(pool.map(functools.partial(verify, trust=trust), [*outs, tampered]))
    assert [r.verdict for r in reports] == [Verdict.VERIFIED] * 4 + [Verdict.TAMPERED]
    assert reports[0].signer is not None and reports[0].signer.trusted_by == "dev root"


def test_verify_reports_the_claim_thumbnail_only_on_request(signed_clip: Path, trust: TrustStore) -> None:
    report = verify(signed_clip, trust=trust)
    assert report.thumbnail is not None and report.thumbnail.mime_type == "image/jpeg"
    assert report.thumbnail.data[:2] == b"\xff\xd8"  # a JPEG
    assert "thumbnail" not in report.to_dict()  # the default JSON contract is unchanged
    assert report.to_dict(thumbnail=True)["thumbnail"]["data_base64"].startswith("/9j/")


def test_identity_policies_are_part_of_the_api(signed_clip: Path, trust: TrustStore) -> None:
    policy = provenance.AllOf([provenance.ExpectOrganization("Example News"), provenance.ExpectSigner("Tom Cruise")])
    report = verify(signed_clip, trust=trust, policy=policy)
    assert report.verdict is Verdict.WRONG_SIGNER and int(report.exit_code) == 7
    assert report.policy_failures == ("expected signer 'Tom Cruise', but it was signed by Jane Doe (Example News)",)
    assert pickle.loads(pickle.dumps(policy)).failures(report) == report.policy_failures  # fit for a process pool
