"""Which IPTC digital source types mean generative AI (the card's AI warning)."""

from __future__ import annotations

import pytest

from provenance.credentials.manifest import SOURCE_LABELS, is_ai

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@pytest.mark.parametrize(
    ("term", "ai"),
    [
        ("trainedAlgorithmicMedia", True),
        ("compositeWithTrainedAlgorithmicMedia", True),
        ("algorithmicMedia", False),  # made by an algorithm without sampled training data: a render, a fractal
        ("digitalCapture", False),
        ("digitalCreation", False),
    ],
)
def test_only_trained_models_count_as_generative_ai(term: str, ai: bool) -> None:
    assert is_ai(IPTC + term) is ai
    assert "AI" not in SOURCE_LABELS[term] or ai
