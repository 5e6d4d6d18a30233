"""Media (internal and unstable): container detection and structure (formats, boxes), and the PyAV modules (video, transcode)."""
