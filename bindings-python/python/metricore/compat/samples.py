"""``prometheus_client.samples``."""

from .._families import BucketSpan, Exemplar, NativeHistogram, Sample, Timestamp

__all__ = ("BucketSpan", "Exemplar", "NativeHistogram", "Sample", "Timestamp")
