"""The fuzz harness on every change: a bounded run (FUZZ_FAST_SECONDS of
in-process cases, FUZZ_CLI_SECONDS of CLI cases; a fresh seed each run,
printed, FUZZ_SEED to repeat one), every recorded regression, and checks
that the harness itself knows which bytes are protected.

`make fuzz` runs the same cases for longer (``python -m tests.fuzz``).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from provenance import Verdict, verify
from tests.fuzz import harness, mutations, seeds
from tests.fuzz.structure import parse

pytestmark = pytest.mark.fuzz

REGRESSIONS = Path(__file__).with_name("regressions")
FAST_SECONDS = float(os.environ.get("FUZZ_FAST_SECONDS", "12"))
CLI_SECONDS = float(os.environ.get("FUZZ_CLI_SECONDS", "15"))


@pytest.fixture(scope="module")
def fuzz_seeds(tmp_path_factory: pytest.TempPathFactory) -> seeds.Seeds:
    return seeds.build(tmp_path_factory.mktemp("fuzz-seeds"))


def _run_seed() -> int:
    value = os.environ.get("FUZZ_SEED")
    return int(value) if value else random.SystemRandom().getrandbits(32)


def _findings() -> Path | None:
    value = os.environ.get("FUZZ_FINDINGS")
    return Path(value) if value else None


# --- the harness knows which bytes are hashed and signed


def _flip(data: bytes, region: str, at: int = 0) -> mutations.Applied:
    return mutations.apply(data, {"op": "flip", "region": region, "at": at, "mask": 1})


def test_a_flip_in_hashed_media_must_not_verify_and_does_not(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    for name, region in (
        ("mp4", "/mdat[0]#payload"),
        ("mov", "/moov[0]/trak[0]/tkhd[0]#payload"),
        ("avi", "/LIST[2]#payload"),
        ("faststart", "/moov[0]/mvhd[0]#payload"),
    ):
        applied = _flip(fuzz_seeds.files[name].read_bytes(), region, at=20)
        assert applied.must_not_verify, (name, region)
        path = tmp_path / f"{name}{fuzz_seeds.files[name].suffix}"
        path.write_bytes(applied.data)
        assert verify(path, trust=fuzz_seeds.trust).verdict is not Verdict.VERIFIED, (name, region)


def test_bytes_the_binding_excludes_are_known_as_such(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    """ftyp is in the BMFF hash's exclusions (read from the clip's own
    assertion): a change there is not a change of hashed bytes, and c2pa-rs
    agrees, so the harness would not call a "verified" there a spoof."""
    data = fuzz_seeds.files["mp4"].read_bytes()
    layout = parse(data)
    ftyp = layout.nodes["/ftyp[0]"]
    assert (ftyp.offset, ftyp.offset + 8) in layout.hashed  # its header frames the hashed boxes
    applied = _flip(data, "/ftyp[0]#payload", at=5)
    assert not applied.must_not_verify
    path = tmp_path / "ftyp.mp4"
    path.write_bytes(applied.data)
    assert verify(path, trust=fuzz_seeds.trust).verdict is Verdict.VERIFIED


def test_claim_and_cose_regions_are_signed(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    data = fuzz_seeds.files["chain"].read_bytes()
    layout = parse(data)
    active = "/uuid[0]/c2pa/m1"
    assert f"{active}/c2pa.signature/cbor[0]#x5chain0" in layout.regions
    assert "/moov[0]/trak[0]/mdia[0]/minf[0]/stbl[0]/stco[0]" in layout.nodes
    for region in (f"{active}/c2pa.claim.v2/cbor[0]#payload", f"{active}/c2pa.signature/cbor[0]#signature"):
        applied = _flip(data, region, at=3)
        assert applied.must_not_verify, region
        path = tmp_path / "m.mp4"
        path.write_bytes(applied.data)
        assert verify(path, trust=fuzz_seeds.trust).verdict is not Verdict.VERIFIED, region
    # the parent's manifest is not the active claim: no claim either way
    assert not _flip(data, "/uuid[0]/c2pa/m0/c2pa.claim.v2/cbor[0]#payload", at=3).must_not_verify


def test_recipes_name_positions_so_they_replay_on_a_clip_signed_again(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    again = seeds.build(tmp_path / "again")
    rng = random.Random(1)
    replayed = 0
    for _ in range(40):
        name = rng.choice(sorted(fuzz_seeds.files))
        recipe = mutations.generate(parse(fuzz_seeds.files[name].read_bytes()), rng)
        try:
            first = mutations.apply(fuzz_seeds.files[name].read_bytes(), recipe)
            second = mutations.apply(again.files[name].read_bytes(), recipe)
        except mutations.Skip:
            continue
        assert first.must_not_verify == second.must_not_verify, recipe
        replayed += 1
    assert replayed >= 30


# --- the checks catch what they are for


def test_run_cli_measures_peak_rss_and_stops_a_hang(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    env = harness.cli_env(fuzz_seeds, tmp_path)
    done = harness.run_cli(["verify", str(fuzz_seeds.files["mp4"]), "--json", *fuzz_seeds.trust_args()], env=env)
    assert (done.code, json.loads(done.stdout)["verdict"], done.timed_out) == (0, "verified", False)
    assert 30 < done.peak_mb < harness.PEAK_RSS_MB  # the child's own peak, from wait4
    stopped = harness.run_cli(["verify", str(fuzz_seeds.files["mp4"])], env=env, timeout=0.05)
    assert stopped.timed_out and stopped.seconds < 5


def test_common_properties_flag_each_violation(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    env = harness.cli_env(fuzz_seeds, tmp_path)
    args = ["verify", str(tmp_path / "missing.mp4")]

    def classes(code: int, stderr: str, peak: float = 90.0, timed_out: bool = False) -> list[str]:
        failures: list[harness.Failure] = []
        harness._common("verify", harness.Run(args, code, "", stderr, 1.0, peak, timed_out), env, failures)
        return [f.cls for f in failures]

    assert classes(5, "error: x.mp4: truncated; use a complete file\n") == []
    assert classes(70, "internal error: ValueError: x\n")[0].startswith("verify: exit 70")
    assert classes(9, "error: x\n") == ["verify: undocumented exit 9"]
    assert classes(5, "error: one\nand another line\n") == ["verify: error not one line"]
    assert "verify: traceback" in classes(5, "Traceback (most recent call last):\n  File ...\n")
    assert classes(0, "", peak=harness.PEAK_RSS_MB + 1) == [f"verify: peak RSS over {harness.PEAK_RSS_MB:.0f} MB"]
    assert classes(0, "", timed_out=True) == ["verify: hang"]


# --- bounded runs


def _check(summary: harness.Summary) -> None:
    print(summary.report())
    assert summary.cases > 0
    if summary.classes:
        pytest.fail(
            f"fuzzing found {len(summary.classes)} failure class(es); repeat this run with "
            f"FUZZ_SEED={summary.run_seed}, or replay one case with the command shown:\n{summary.report()}",
            pytrace=False,
        )


def test_fuzz_in_process(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    summary = harness.campaign(
        fuzz_seeds, tmp_path, seconds=FAST_SECONDS, mode="fast", run_seed=_run_seed(), findings=_findings()
    )
    _check(summary)


def test_fuzz_cli(fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    summary = harness.campaign(
        fuzz_seeds, tmp_path, seconds=CLI_SECONDS, mode="cli", run_seed=_run_seed(), findings=_findings()
    )
    _check(summary)


# --- every failure class found so far, replayed (recipes, not binaries)


@pytest.mark.parametrize("recipe", sorted(REGRESSIONS.glob("*.json")), ids=lambda p: p.stem)
def test_regression(recipe: Path, fuzz_seeds: seeds.Seeds, tmp_path: Path) -> None:
    spec = json.loads(recipe.read_text())
    case = harness.Case(spec["seed"], spec["recipe"], spec.get("case_seed"))
    failures = harness.check_all(fuzz_seeds, case, tmp_path)
    if failures:
        pytest.fail(
            f"{recipe.name}: {spec['class']} still fails\n  cause: {spec.get('cause', '?')}\n"
            f"  owner: {spec.get('owner', '?')}\n"
            + "\n".join(f"  {f.cls}: {f.message}" for f in failures)
            + f"\n  replay: python -m tests.fuzz --replay {recipe}",
            pytrace=False,
        )
