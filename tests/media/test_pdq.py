"""PDQ in numpy: bit for bit what the reference C++ computes (through the
``pdqhash`` bindings, where they are installed), and its quality metric."""

from __future__ import annotations

import numpy as np
import pytest

from provenance.media.pdq import luma, pdq_hash


def _frames(n: int = 6) -> list[np.ndarray]:
    """Real-looking frames of several sizes: gradients, shapes and noise."""
    rng = np.random.default_rng(7)
    out = []
    for k, (h, w) in enumerate([(64, 64), (360, 640), (720, 1280), (97, 131), (480, 854), (1080, 1920)][:n]):
        y, x = np.mgrid[0:h, 0:w]
        img = (128 + 80 * np.sin(x / (9 + k)) * np.cos(y / (13 + k)) + rng.normal(0, 12, (h, w))).clip(0, 255)
        img[h // 4 : h // 2, w // 3 : w // 2] = 255 - img[h // 4 : h // 2, w // 3 : w // 2]
        out.append(np.repeat(img.astype(np.uint8)[:, :, None], 3, axis=2))
    return out


def test_the_hash_and_quality_are_the_reference_implementations() -> None:
    pdqhash = pytest.importorskip("pdqhash", reason="the pdqhash bindings (C++) are only a cross-check")
    for rgb in _frames():
        bits, quality = pdqhash.compute(rgb)
        digest, mine = pdq_hash(luma(rgb))
        assert np.array_equal(np.unpackbits(np.frombuffer(digest, np.uint8)), np.asarray(bits, np.uint8)), rgb.shape
        assert mine == quality


def test_a_similar_image_is_near_and_another_is_far() -> None:
    a, b = _frames(2)[1], _frames(3)[2]
    base, _ = pdq_hash(luma(a))
    brighter, _ = pdq_hash(luma(np.clip(a.astype(int) + 20, 0, 255).astype(np.uint8)))
    other, _ = pdq_hash(luma(b[:360, :640]))

    def distance(x: bytes, y: bytes) -> int:
        return (int.from_bytes(x, "big") ^ int.from_bytes(y, "big")).bit_count()

    assert len(base) == 32 and distance(base, brighter) <= 16 < 64 <= distance(base, other)


def test_a_flat_image_has_no_quality_and_a_bad_shape_is_refused() -> None:
    digest, quality = pdq_hash(np.full((120, 160), 40.0))
    assert quality == 0 and len(digest) == 32
    with pytest.raises(ValueError):
        pdq_hash(np.zeros((4, 4, 3)))
