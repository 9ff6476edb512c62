"""scripts/audit.py: what counts as a finding, an accepted advisory, or an audit not done."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    """Load the script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("kenkogo_audit", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_shipped_ignore_list_is_valid(audit: ModuleType) -> None:
    ignored = audit.load_ignored()
    assert all(reason.strip() for reason in ignored.values())


def test_an_ignore_entry_without_a_reason_is_refused(audit: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "ignore.toml"
    path.write_text('[[ignore]]\nid = "GHSA-aaaa-bbbb-cccc"\nreason = " "\n', encoding="utf-8")
    with pytest.raises(ValueError, match="reason"):
        audit.load_ignored(path)
    path.write_text('[[ignore]]\nid = "GHSA-aaaa-bbbb-cccc"\nreason = "unused"\n', encoding="utf-8")
    assert audit.load_ignored(path) == {"GHSA-aaaa-bbbb-cccc": "unused"}


PIP_REPORT = {
    "dependencies": [
        {"name": "aiohttp", "version": "3.9.0", "vulns": []},
        {
            "name": "python-socketio",
            "version": "5.0.0",
            "vulns": [
                {"id": "PYSEC-2024-1", "aliases": ["GHSA-g8c6-8fjj-2r4m"], "description": "pickle"}
            ],
        },
    ]
}


def test_pip_advisories_are_findings_unless_accepted(audit: ModuleType) -> None:
    found = audit.pip_findings(PIP_REPORT, {})
    assert [(f.package, f.id) for f in found] == [("python-socketio", "PYSEC-2024-1")]
    # Accepted by any of its names.
    assert audit.pip_findings(PIP_REPORT, {"GHSA-g8c6-8fjj-2r4m": "why"}) == []


def test_a_package_pip_audit_could_not_check_is_not_a_pass(audit: ModuleType) -> None:
    report = {"dependencies": [{"name": "aiohttp", "skip_reason": "Dependency not found on PyPI"}]}
    with pytest.raises(audit.Unreachable, match="aiohttp"):
        audit.pip_findings(report, {})


def test_npm_high_advisories_are_findings(audit: ModuleType) -> None:
    report = {
        "vulnerabilities": {
            "ws": {
                "severity": "high",
                "range": "<8.17.1",
                "via": [
                    {"url": "https://github.com/advisories/GHSA-3h5v-q93c-6h6q", "title": "DoS"}
                ],
            },
            "debug": {
                "severity": "moderate",
                "range": "*",
                "via": [{"url": "x/GHSA-1", "title": ""}],
            },
            "engine.io": {"severity": "high", "range": "*", "via": ["ws"]},
        }
    }
    found = audit.npm_findings(report, {})
    assert [(f.package, f.id) for f in found] == [("ws", "GHSA-3h5v-q93c-6h6q")]
    assert audit.npm_findings(report, {"GHSA-3h5v-q93c-6h6q": "why"}) == []


def test_an_npm_registry_error_is_not_a_pass(audit: ModuleType) -> None:
    report = {
        "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security"
    }
    with pytest.raises(audit.Unreachable, match="405"):
        audit.npm_findings(report, {})
