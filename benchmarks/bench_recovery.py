"""Recovery accuracy and speed of the video fingerprint.

    python benchmarks/bench_recovery.py [--quick] [--originals 40] [--distractors 200]
                                        [--seconds 14] [--size 640x360] [--sign-mb 100]

Builds a labelled set from clips it makes: procedural scenes
(tests/support/scenes.py: textured sets, a panning camera, moving shapes,
cuts, sensor noise; one in five a static tripod shot) with different seeds,
plus the bunny footage in ../shared/corpus/footage when present. Each
original is put through every transform of tests/support/transforms.py
(H.264 at 250 kbit/s, HEVC, VP9, rescale to half height (720p to 360p),
15 fps, 5% crop a side, 4:3 letterbox, a logo, a 10 s excerpt, audio
dropped). The distractors are other scenes, a quarter of them second takes
of an original's set (same set, other shape motion, camera jitter and
noise), and the other bunny clip.

Prints recall per transform (a copy's dense fingerprint scores at least
MATCH_THRESHOLD against its original; also whether the original is the best
candidate and how far off the matched span is), the false-match rate over
every distractor pair (each distractor against every original and every
other distractor, and each transformed copy against the other originals),
fingerprint speed as a multiple of realtime for 720p H.264 on one core, and
how much fingerprinting adds to signing a --sign-mb clip. Writes
benchmarks/out/bench_recovery.json.

--quick: 8 originals, 40 distractors, 12 s at 320x180, no footage, a 6 s
speed clip, a 10 MB signing clip, one speed run: under two minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.support: the scene generator and transforms

import av  # noqa: E402

from provenance.media.fingerprint import MATCH_THRESHOLD, Fingerprint, FingerprintError, compare, compute  # noqa: E402
from tests.support.scenes import make_scene_clip  # noqa: E402
from tests.support.transforms import TRANSFORMS, apply, available  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
SHARED = Path(os.environ.get("PROVENANCE_SHARED", REPO.parent / "shared"))
FOOTAGE = SHARED / "corpus" / "footage"


def cpu_seconds(run: object) -> tuple[object, float]:
    start = time.process_time()
    value = run()  # type: ignore[operator]
    return value, time.process_time() - start


def media_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


def build_set(work: Path, args: argparse.Namespace) -> tuple[dict[str, Path], dict[str, Path], dict[str, str]]:
    """Originals and distractors; near-duplicate distractors map to the
    original whose set they share."""
    width, height = args.size
    originals: dict[str, Path] = {}
    distractors: dict[str, Path] = {}
    takes: dict[str, str] = {}
    for i in range(args.originals):
        static = i % 5 == 4
        name = f"scene{i:03d}{'-static' if static else ''}"
        originals[name] = make_scene_clip(
            work / f"{name}.mp4", seed=1000 + i, seconds=args.seconds, width=width, height=height, static=static
        )
    bunny = FOOTAGE / "bunny-16s.mp4"
    if bunny.is_file() and not args.quick:
        originals["bunny-16s"] = bunny
        distractors["bunny-10s"] = FOOTAGE / "bunny-10s.mp4"
    dw, dh = max(160, width // 2) // 2 * 2, max(96, height // 2) // 2 * 2
    n_takes = args.distractors // 4
    for j in range(args.distractors - len(distractors)):
        if j < n_takes:
            i = j % args.originals
            static = i % 5 == 4
            name = f"take{j:03d}-of-scene{i:03d}"
            takes[name] = f"scene{i:03d}{'-static' if static else ''}"
            distractors[name] = make_scene_clip(
                work / f"{name}.mp4",
                seed=1000 + i,
                take=1 + j // args.originals,
                seconds=args.seconds,
                width=dw,
                height=dh,
                static=static,
                audio=False,
            )
        else:
            name = f"other{j:03d}"
            distractors[name] = make_scene_clip(
                work / f"{name}.mp4",
                seed=5000 + j,
                seconds=args.distractors_seconds,
                width=dw,
                height=dh,
                static=j % 5 == 4,
                audio=False,
            )
    return originals, distractors, takes


def fingerprint(path: Path, *, dense: bool) -> Fingerprint | None:
    try:
        return compute(path, dense=dense)
    except FingerprintError:
        return None


def accuracy(work: Path, args: argparse.Namespace) -> dict[str, object]:
    t0 = time.perf_counter()
    originals, distractors, takes = build_set(work, args)
    built = time.perf_counter() - t0
    registered = {name: compute(path) for name, path in originals.items()}
    copies_dir = work / "copies"
    copies_dir.mkdir()
    per_transform: dict[str, dict[str, object]] = {}
    cross_pairs = cross_false = 0
    worst: list[tuple[float, str, str]] = []
    for transform in TRANSFORMS:
        if not available(transform):
            per_transform[transform] = {"skipped": "encoder missing"}
            continue
        hits = top1 = total = 0
        scores: list[float] = []
        span_errors: list[float] = []
        for name, path in originals.items():
            source_height = _height(path)
            height = 360 if source_height >= 720 else max(90, source_height // 2) // 2 * 2
            # excerpts start anywhere between whole seconds, 1 to 3.4 s in
            start_at = 1.0 + (zlib.crc32(name.encode()) % 25) / 10 if media_seconds(path) >= 13.5 else 0.0
            if transform == "excerpt" and media_seconds(path) < start_at + 10.0:
                continue
            copy, start, end = apply(transform, path, copies_dir, excerpt_start=start_at, height=height, stem=name)
            query = fingerprint(copy, dense=True)
            total += 1
            if query is None:
                scores.append(0.0)
                continue
            matches = {other: compare(query, fp) for other, fp in registered.items()}
            match = matches[name]
            scores.append(match.score)
            if match.score >= MATCH_THRESHOLD:
                hits += 1
                span_errors.append(max(abs(match.start - start), abs(match.end - end)))
            if max(matches, key=lambda o: matches[o].score) == name:
                top1 += 1
            for other, m in matches.items():
                if other != name:
                    cross_pairs += 1
                    cross_false += m.score >= MATCH_THRESHOLD
                    worst.append((m.score, f"{transform} copy of {name}", other))
            copy.unlink()
        per_transform[transform] = {
            "copies": total,
            "recall": round(hits / total, 4) if total else None,
            "top1": round(top1 / total, 4) if total else None,
            "median_score": round(statistics.median(scores), 3) if scores else None,
            "min_score": round(min(scores), 3) if scores else None,
            "median_span_error_s": round(statistics.median(span_errors), 2) if span_errors else None,
            "max_span_error_s": round(max(span_errors), 2) if span_errors else None,
        }
    # distractor pairs: every distractor as a (dense) query against every
    # original and every other distractor as a registered clip
    queries = {name: fingerprint(path, dense=True) for name, path in distractors.items()}
    regs = dict(registered)
    regs.update({name: fp for name, path in distractors.items() if (fp := fingerprint(path, dense=False))})
    pairs = false = near_pairs = near_false = 0
    near_scores: list[float] = []
    for qname, query in queries.items():
        if query is None:
            continue
        for rname, fp in regs.items():
            if rname == qname:
                continue
            score = compare(query, fp).score
            pairs += 1
            false += score >= MATCH_THRESHOLD
            worst.append((score, qname, rname))
            if takes.get(qname) == rname:
                near_pairs += 1
                near_false += score >= MATCH_THRESHOLD
                near_scores.append(score)
    worst.sort(reverse=True)
    return {
        "originals": len(originals),
        "distractors": len(distractors),
        "unfingerprintable_distractors": sum(q is None for q in queries.values()),
        "set_build_s": round(built, 1),
        "threshold": MATCH_THRESHOLD,
        "transforms": per_transform,
        "distractor_pairs": pairs,
        "false_matches": false,
        "false_match_rate": round(false / pairs, 6) if pairs else None,
        "near_duplicate_pairs": near_pairs,
        "near_duplicate_false_matches": near_false,
        "near_duplicate_max_score": round(max(near_scores), 3) if near_scores else None,
        "copy_vs_other_original_pairs": cross_pairs,
        "copy_vs_other_original_false_matches": cross_false,
        "highest_non_matching_scores": [{"score": s, "query": q, "candidate": c} for s, q, c in worst[:5]],
    }


def _height(path: Path) -> int:
    with av.open(str(path)) as container:
        return int(container.streams.video[0].codec_context.height)


def speed(work: Path, args: argparse.Namespace) -> dict[str, object]:
    """CPU seconds of compute() on one thread (process time: the other
    sessions on a shared machine do not count) for 720p H.264."""
    import iscc_core  # noqa: F401  (importing is not fingerprinting: keep it out of the timings)

    seconds = 6.0 if args.quick else args.seconds
    clips = {
        "scene-720p": make_scene_clip(
            work / "speed720.mp4", seed=77, seconds=seconds, width=1280, height=720, audio=False
        )
    }
    bunny = FOOTAGE / "bunny-16s.mp4"
    if bunny.is_file():
        clips["bunny-720p"] = bunny
    out: dict[str, object] = {}
    for name, path in clips.items():
        seconds = media_seconds(path)
        runs = {
            mode: statistics.median(
                cpu_seconds(lambda p=path, d=dense: compute(p, dense=d))[1] for _ in range(args.runs)
            )
            for mode, dense in (("register", False), ("lookup", True))
        }
        out[name] = {
            "seconds": round(seconds, 2),
            "mbit_s": round(path.stat().st_size * 8 / seconds / 1e6, 2),
            **{f"{mode}_x_realtime": round(seconds / cpu, 1) for mode, cpu in runs.items()},
        }
    return out


def sign_overhead(work: Path, args: argparse.Namespace) -> dict[str, object]:
    """``sign`` against ``sign --register`` of --sign-mb clips (720p and 1080p
    H.264, a keyframe every 2 s as the scenes are encoded and every 1 s as
    cameras commonly record), next to what any decode-based fingerprint must
    at least do in the same run: read every packet, and decode every
    keyframe (with a keyframe a second, the floor of a fingerprint that
    looks at a frame a second); and the full decode fingerprinting did
    before it skipped what it does not sample. Medians of --runs."""
    from provenance.identity.certificates import Subject
    from provenance.identity.pki import init_dev_pki
    from provenance.identity.signer import KeySigner
    from provenance.repository import open_repository

    pki = init_dev_pki(work / "keys", subject=Subject("Bench", "Bench Newsroom", "US"))
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
    heights = (720,) if args.quick else (720, 1080)
    rows: dict[str, object] = {}
    with open_repository(work / "repo.db", create=True) as repo:
        for height in heights:
            for gop in (2.0, 1.0):
                piece = make_scene_clip(
                    work / "piece.mp4",
                    seed=78,
                    seconds=10,
                    width=height * 16 // 9,
                    height=height,
                    audio=False,
                    gop_seconds=gop,
                )
                big = _loop(piece, work / "big.mp4", megabytes=args.sign_mb)
                rows[f"{height}p-keyframe-{gop:g}s"] = _sign_row(big, work, signer=signer, repo=repo, runs=args.runs)
                print(json.dumps(rows[f"{height}p-keyframe-{gop:g}s"]))
                big.unlink()
                piece.unlink()
    return rows


def _sign_row(big: Path, work: Path, *, signer: object, repo: object, runs: int) -> dict[str, object]:
    from provenance.media import fingerprint as fp
    from provenance.signing import sign

    out = work / "big.signed.mp4"

    def timed(run: object) -> tuple[float, float]:
        """Median CPU and wall seconds of *run* over *runs* runs."""
        cpus, walls = [], []
        for _ in range(runs):
            wall = time.perf_counter()
            _, cpu = cpu_seconds(run)
            walls.append(time.perf_counter() - wall)
            cpus.append(cpu)
        return statistics.median(cpus), statistics.median(walls)

    sha_cpu, _ = timed(lambda: _sha256(big))
    demux_cpu, _ = timed(lambda: _demux(big))
    keys_cpu, _ = timed(lambda: _decode_keyframes(big))
    full_cpu, _ = timed(lambda: fp._sample(big, max_seconds=None, dense=False, threads=1, skip_groups=False))
    fp_cpu, fp_wall = timed(lambda: fp.compute(big))
    threads = fp.waiting_threads()
    _, fp_wall_threads = timed(lambda: fp.compute(big, threads=threads))
    sign_cpu, sign_wall = timed(lambda: sign(big, out, signer=signer, force=True))  # type: ignore[arg-type]
    reg_cpu, reg_wall = timed(lambda: sign(big, out, signer=signer, force=True, register=repo))  # type: ignore[arg-type]
    out.unlink()
    seconds = media_seconds(big)
    return {
        "clip_mb": round(big.stat().st_size / 1e6, 1),
        "clip_seconds": round(seconds, 1),
        "mbit_s": round(big.stat().st_size * 8 / seconds / 1e6, 1),
        "sha256_cpu_s": round(sha_cpu, 3),
        "demux_cpu_s": round(demux_cpu, 3),
        "keyframes_decode_cpu_s": round(keys_cpu, 3),
        "full_decode_fingerprint_cpu_s": round(full_cpu, 3),
        "fingerprint_cpu_s": round(fp_cpu, 3),
        "fingerprint_wall_s": round(fp_wall, 3),
        "fingerprint_x_realtime_one_core": round(seconds / fp_cpu, 1),
        f"fingerprint_wall_s_{threads}_threads": round(fp_wall_threads, 3),
        "sign_cpu_s": round(sign_cpu, 3),
        "sign_wall_s": round(sign_wall, 3),
        "sign_register_cpu_s": round(reg_cpu, 3),
        "sign_register_wall_s": round(reg_wall, 3),
        "register_over_sign_cpu": round(reg_cpu / sign_cpu, 2),
        "register_over_sign_wall": round(reg_wall / sign_wall, 2),
        "fingerprint_adds_cpu": round(fp_cpu / sign_cpu, 2),
        "keyframes_alone_add_cpu": round(keys_cpu / sign_cpu, 2),
    }


def _sha256(path: Path) -> None:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            digest.update(chunk)


def _demux(path: Path) -> None:
    with av.open(str(path)) as container:
        for _ in container.demux(container.streams.video[0]):
            pass


def _decode_keyframes(path: Path) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        stream.codec_context.skip_frame = "NONKEY"
        for _ in container.decode(stream):
            pass


def _loop(src: Path, dst: Path, *, megabytes: float) -> Path:
    """*src*'s video packets again and again, shifted in time, up to *megabytes*."""
    with av.open(str(dst), "w") as out:
        written = 0
        shift = 0
        while written < megabytes * 1e6:
            with av.open(str(src)) as inp:
                vin = inp.streams.video[0]
                if not out.streams.video:
                    vout = out.add_stream_from_template(vin)
                last = 0
                for packet in inp.demux(vin):
                    if packet.dts is None:
                        continue
                    last = max(last, packet.pts + (packet.duration or 0), packet.dts + (packet.duration or 0))
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = vout
                    written += packet.size
                    out.mux(packet)
                shift += last
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run: under two minutes")
    parser.add_argument("--originals", type=int)
    parser.add_argument("--distractors", type=int)
    parser.add_argument("--seconds", type=float, help="length of originals and takes (>= 12 for the excerpt)")
    parser.add_argument("--size", type=lambda s: tuple(int(v) for v in s.split("x")), help="originals' WxH")
    parser.add_argument("--sign-mb", type=float)
    parser.add_argument("--runs", type=int, help="speed and signing runs, the median counts (3; 1 with --quick)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["accuracy", "speed", "sign"])
    args = parser.parse_args()
    quick = {"originals": 8, "distractors": 40, "seconds": 12.0, "size": (320, 180), "sign_mb": 10.0, "runs": 1}
    full = {"originals": 40, "distractors": 200, "seconds": 14.0, "size": (640, 360), "sign_mb": 100.0, "runs": 3}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.distractors_seconds = min(args.seconds, 12.0)

    work = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    result: dict[str, object] = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "quick": args.quick,
    }
    started = time.perf_counter()
    try:
        if "speed" not in args.skip:
            result["speed_720p_one_core"] = speed(work, args)
            print(json.dumps(result["speed_720p_one_core"], indent=1))
        if "sign" not in args.skip:
            result["sign_overhead"] = sign_overhead(work, args)
            print(json.dumps(result["sign_overhead"], indent=1))
        if "accuracy" not in args.skip:
            result["accuracy"] = accuracy(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    report(result)
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_recovery.json").write_text(json.dumps(result, indent=2) + "\n")


def report(result: dict[str, object]) -> None:
    acc = result.get("accuracy")
    if isinstance(acc, dict):
        print(f"{acc['originals']} originals, {acc['distractors']} distractors, threshold {acc['threshold']}")
        print(f"{'transform':<10} {'copies':>6} {'recall':>7} {'top-1':>6} {'median':>7} {'min':>6} {'span err':>8}")
        for name, row in acc["transforms"].items():
            if "skipped" in row:
                print(f"{name:<10} skipped ({row['skipped']})")
                continue
            print(
                f"{name:<10} {row['copies']:>6} {row['recall']:>7} {row['top1']:>6} {row['median_score']:>7} "
                f"{row['min_score']:>6} {row['median_span_error_s']!s:>8}"
            )
        print(
            f"false matches: {acc['false_matches']} of {acc['distractor_pairs']} distractor pairs "
            f"(rate {acc['false_match_rate']}); near-duplicate takes {acc['near_duplicate_false_matches']} of "
            f"{acc['near_duplicate_pairs']} (max score {acc['near_duplicate_max_score']}); transformed copies vs "
            f"other originals {acc['copy_vs_other_original_false_matches']} of {acc['copy_vs_other_original_pairs']}"
        )
    speed_rows = result.get("speed_720p_one_core")
    if isinstance(speed_rows, dict):
        for name, row in speed_rows.items():
            print(
                f"speed {name} ({row['mbit_s']} Mbit/s): register ×{row['register_x_realtime']} realtime, "
                f"lookup ×{row['lookup_x_realtime']} realtime (one core)"
            )
    sign_rows = result.get("sign_overhead")
    if isinstance(sign_rows, dict):
        for name, row in sign_rows.items():
            print(
                f"sign {name} {row['clip_mb']} MB ({row['clip_seconds']} s at {row['mbit_s']} Mbit/s): "
                f"sign {row['sign_cpu_s']} s CPU / {row['sign_wall_s']} s wall, sign --register "
                f"{row['sign_register_cpu_s']} s / {row['sign_register_wall_s']} s "
                f"(x{row['register_over_sign_cpu']} CPU, x{row['register_over_sign_wall']} wall); fingerprint "
                f"{row['fingerprint_cpu_s']} s CPU (x{row['fingerprint_x_realtime_one_core']} realtime, one core; "
                f"full decode {row['full_decode_fingerprint_cpu_s']} s); limits: SHA-256 {row['sha256_cpu_s']} s, "
                f"demux {row['demux_cpu_s']} s, keyframes alone {row['keyframes_decode_cpu_s']} s "
                f"(adds {row['keyframes_alone_add_cpu']:.0%} to sign)"
            )
    print(f"elapsed {result['elapsed_s']} s")


if __name__ == "__main__":
    main()
