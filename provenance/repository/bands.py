"""Multi-index hashing: each 256-bit per-second hash is cut into bands, and
the repository indexes every (band, value). Two hashes within Hamming
distance d < BANDS share at least one band exactly (pigeonhole), and
hashes further apart still share one often, so probing a query's bands
finds the clips worth scoring without reading every clip.

12 bands of 21 bits (252 of the 256 bits; the last 4 count only in the
scoring): with 16-bit bands a random value has N/65536 postings, ~90 at
100k clips of 60 hashes, and a query of 60 hashes reads ~90,000 of them;
with 21-bit bands it reads ~2,000, while a hash 24 bits away from the
original still shares a band with probability ~0.8 (~0.97 for 16-bit
bands), and a 10 s excerpt has ten chances.
"""

from __future__ import annotations

HASH_BYTES = 32
BANDS = 12
BAND_BITS = 21
_MASK = (1 << BAND_BITS) - 1


def band_values(digest: bytes) -> tuple[int, ...]:
    """The BANDS band values of one 32-byte hash, band 0 from the top bits."""
    if len(digest) != HASH_BYTES:
        raise ValueError(f"a per-second hash has {HASH_BYTES} bytes, not {len(digest)}")
    value = int.from_bytes(digest, "big")
    top = HASH_BYTES * 8 - BAND_BITS
    return tuple((value >> (top - i * BAND_BITS)) & _MASK for i in range(BANDS))
