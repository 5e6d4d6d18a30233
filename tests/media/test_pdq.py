"""PDQ in numpy: bit for bit what the reference C++ computes, and its quality metric."""

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


# What the reference C++ (pdqhash 0.2.8, ThreatExchange's pdqhashing.cpp)
# computes for _frames(), in its hex form, with its quality. Recorded once
# with pdqhash, which is not a dependency: it ships no wheels and needs a
# C++ compiler to install.
REFERENCE = [
    ((64, 64), "dd1fa0cc2582c77abb7313f60e13ee34a5abf18678c3ce740e3b39dcb8832003", 100),
    ((360, 640), "0381636f9c989cd96202636662069dfddffd880077676326ddfd8898f7ff2002", 100),
    ((720, 1280), "ebaeebae4504bcfb1c51ebbe4304abae1050ebae41077ce21c41bab94314abae", 100),
    ((97, 131), "651c9339d2f8fcc64cc4233967e76ce6f71807390b9cccc6fcc6133903074cc7", 100),
    ((480, 854), "e3c818711c711c63e38ee78e1871befb1871e38ee38e1c711c711c71e38ee386", 100),
    ((1080, 1920), "32637dddcc8ccddc2222d919c8887767332276d3cc8ccc8d33628f19899975e7", 100),
]


def test_the_hash_and_quality_are_the_reference_implementations() -> None:
    for rgb, (shape, expected, quality) in zip(_frames(), REFERENCE, strict=True):
        assert rgb.shape[:2] == shape
        assert pdq_hash(luma(rgb)) == (bytes.fromhex(expected), quality), shape


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
