"""Shared fixtures. Every test gets fresh registries; nothing relies on the default REGISTRY
except the tests of the default itself (which use unique names)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import uuid
from typing import Callable

import pytest

import metricore

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def registry() -> metricore.CollectorRegistry:
    return metricore.CollectorRegistry()


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """A metric name no other test uses (for the process-wide default registry)."""
    return lambda base: f"{base}_{uuid.uuid4().hex[:12]}"


def promtool_check(text: str, tmp_path: pathlib.Path) -> subprocess.CompletedProcess:
    """Runs ``promtool check metrics`` on ``text``; skips (saying why) when promtool is absent
    (scripts/test.sh installs it, so CI always has it)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (scripts/lib.sh ensure_promtool installs it)")
    path = tmp_path / "metrics.txt"
    path.write_text(text)
    with path.open("rb") as f:
        return subprocess.run([promtool, "check", "metrics"], stdin=f, capture_output=True, timeout=60)
