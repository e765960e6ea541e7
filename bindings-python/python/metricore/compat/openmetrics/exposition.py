"""``prometheus_client.openmetrics.exposition``."""

from ..._escaping import ALLOWUTF8, DOTS, UNDERSCORES, VALUES, escape_label_name, escape_metric_name
from ...exposition import CONTENT_TYPE_OPENMETRICS as CONTENT_TYPE_LATEST
from ...exposition import generate_latest_openmetrics as generate_latest

__all__ = (
    "ALLOWUTF8", "CONTENT_TYPE_LATEST", "DOTS", "UNDERSCORES", "VALUES", "escape_label_name",
    "escape_metric_name", "generate_latest",
)
