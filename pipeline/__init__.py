"""Pure processing stages: bytes and images in, results out. No service I/O, no globals."""

PIPELINE_VERSION = "1.0"
