"""PDQ, Meta's 256-bit perceptual image hash, in numpy.

The algorithm of the reference implementation (ThreatExchange ``pdq``,
``pdqhashing.cpp``): luma; two passes of a Jarosz (box) filter sized to the
image; decimation to 64 x 64; a 16 x 16 DCT of that (without the DC row and
column); one bit per coefficient, set when it is above the median. The
quality metric is the reference's too: the sum of neighbouring luma steps,
in percent, divided by 90 and capped at 100.

The ``pdqhash`` package wraps the C++ implementation but ships no wheels
(every install compiles it), so provenance computes PDQ itself: numpy is
already a dependency, and at one frame a second the hash costs well under a
millisecond; decoding is what costs. ``tests/media/test_pdq.py`` checks the
bits against ``pdqhash`` where it is installed.

>>> digest, quality = pdq_hash(grey)  # doctest: +SKIP
>>> len(digest), 0 <= quality <= 100  # doctest: +SKIP
(32, True)
"""

from __future__ import annotations

import functools

import numpy as np

SIZE = 64  # the decimated image is SIZE x SIZE
COEFFICIENTS = 16  # a COEFFICIENTS x COEFFICIENTS DCT block, 256 bits
_PASSES = 2  # Jarosz filter passes
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luma(rgb: np.ndarray) -> np.ndarray:
    """The luma of an ``H x W x 3`` uint8 RGB image, as float32."""
    return rgb[..., :3].astype(np.float32) @ _LUMA


@functools.cache
def _dct_matrix() -> np.ndarray:
    i = np.arange(1, COEFFICIENTS + 1, dtype=np.float64)[:, None]  # the DC row is left out
    j = np.arange(SIZE, dtype=np.float64)[None, :]
    return (np.sqrt(2.0 / SIZE) * np.cos(np.pi / 2 / SIZE * i * (2 * j + 1))).astype(np.float32)


def _window(old: int) -> int:
    """The reference's Jarosz window for decimating *old* samples to 64."""
    return (old + 2 * SIZE - 1) // (2 * SIZE)


def _box(values: np.ndarray, window: int, axis: int) -> np.ndarray:
    """The reference's ``box1DFloat`` along *axis*: output k is the mean of
    the inputs from ``k + half - window`` to ``k + half - 1``, clipped to
    the vector (``half = (window + 2) // 2``).

    Summed in float64 from shifted slices of a zero-padded copy: the sums of
    a few float32 values are exact there, so this equals a cumulative-sum
    formulation bit for bit, several times faster at the small windows a
    256-pixel-wide frame has (2 to 4)."""
    n = values.shape[axis]
    if window > 8:  # many shifted adds: one cumulative sum is cheaper
        return _box_cumsum(values, window, axis)
    half = (window + 2) // 2
    moved = np.moveaxis(values, axis, 0)
    padded = np.zeros((n + window, *moved.shape[1:]), dtype=np.float64)
    padded[window - half : window - half + n] = moved  # padded[k] is input k + half - window
    total = padded[:n].copy()
    for j in range(1, window):
        total += padded[j : j + n]
    counts = _counts(n, window).reshape((n,) + (1,) * (values.ndim - 1))
    return np.moveaxis((total / counts).astype(np.float32), 0, axis)


@functools.cache
def _counts(n: int, window: int) -> np.ndarray:
    """How many inputs each output of :func:`_box` averages (fewer at the ends)."""
    half = (window + 2) // 2
    k = np.arange(n)
    return (np.clip(k + half, 0, n) - np.clip(k + half - window, 0, n)).astype(np.float64)


def _box_cumsum(values: np.ndarray, window: int, axis: int) -> np.ndarray:
    n = values.shape[axis]
    half = (window + 2) // 2
    k = np.arange(n)
    lo = np.clip(k + half - window, 0, n)
    hi = np.clip(k + half, 0, n)  # exclusive
    sums = np.cumsum(values, axis=axis, dtype=np.float64)
    zero = np.zeros_like(np.take(sums, [0], axis=axis))
    sums = np.concatenate([zero, sums], axis=axis)
    total = np.take(sums, hi, axis=axis) - np.take(sums, lo, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = n
    return (total / (hi - lo).reshape(shape)).astype(np.float32)


def _decimate(values: np.ndarray) -> np.ndarray:
    rows, cols = values.shape
    r = ((np.arange(SIZE) + 0.5) * rows / SIZE).astype(np.int64)
    c = ((np.arange(SIZE) + 0.5) * cols / SIZE).astype(np.int64)
    return values[np.ix_(r, c)]


def _quality(block: np.ndarray) -> int:
    down = np.abs(np.trunc((block[:-1, :] - block[1:, :]) * 100 / 255)).sum()
    across = np.abs(np.trunc((block[:, :-1] - block[:, 1:]) * 100 / 255)).sum()
    return min(int((down + across) // 90), 100)


def pdq_hash(grey: np.ndarray) -> tuple[bytes, int]:
    """``(32-byte PDQ hash, quality 0..100)`` of a 2-D luma image (0..255).

    Bit ``16 * i + j`` (as the reference numbers them) is set when DCT
    coefficient ``(i, j)`` is above the median; the bytes are the
    reference's hex form (bit 255 first), as ``pdqhash`` lists them."""
    values = np.asarray(grey, dtype=np.float32)
    if values.ndim != 2 or min(values.shape) < 1:
        raise ValueError(f"PDQ needs a 2-D image, not one of shape {values.shape}")
    rows, cols = values.shape
    if (rows, cols) != (SIZE, SIZE):
        across, down = _window(cols), _window(rows)
        for _ in range(_PASSES):
            values = _box(values, across, axis=1)
            values = _box(values, down, axis=0)
        values = _decimate(values)
    quality = _quality(values)
    dct = _dct_matrix()
    coefficients = dct @ values @ dct.T
    bits = coefficients > np.median(coefficients)
    # the reference's bit 16*i+j is coefficient (i, j); its hex form (and the
    # pdqhash package's vector) lists the coefficients last first
    return np.packbits(bits.reshape(-1)[::-1]).tobytes(), quality
