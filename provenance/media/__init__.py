"""Media: container detection (formats) and PyAV work (av_tools)."""
