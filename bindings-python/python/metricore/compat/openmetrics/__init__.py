"""``prometheus_client.openmetrics``."""
