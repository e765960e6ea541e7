"""``prometheus_client.validation``. metricore accepts the legacy name rules only
(``[a-zA-Z_:][a-zA-Z0-9_:]*``); these switches are kept so that code calling them runs."""

_legacy_validation = True


def disable_legacy_validation() -> None:
    """Accepted; metricore still checks names by the legacy rules."""
    global _legacy_validation
    _legacy_validation = False


def enable_legacy_validation() -> None:
    """Legacy name rules (metricore's only rules)."""
    global _legacy_validation
    _legacy_validation = True


__all__ = ("disable_legacy_validation", "enable_legacy_validation")
