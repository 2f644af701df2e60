"""shipyard: build container images described in werf.yaml, werf-compatible."""

__version__ = "0.1.0"
