"""Trust: anchors, pinned certificates and the names of their sources."""
