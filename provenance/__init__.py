"""provenance: sign and verify C2PA content credentials on video."""

__version__ = "0.1.0"
