"""Check the pinned Python and Node packages against the public advisory databases.

`pip-audit -r requirements.txt` (PyPI's advisory data) and `npm audit --omit=dev
--audit-level=high` in every folder with a package-lock.json. Advisories listed in
scripts/audit-ignore.toml (each with its reason) are accepted. Exit status: 0 clean, 1 advisories
found, 3 the advisory service could not be asked (nothing was checked: never a silent pass).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
IGNORE_FILE = REPO / "scripts" / "audit-ignore.toml"
NODE_FOLDERS = ("tests/node", "tests/frameworks/koishi", "bench", "examples/js")
TIMEOUT = 120.0
EXIT_FOUND, EXIT_UNREACHABLE = 1, 3


class Unreachable(Exception):
    """The advisory service did not answer: nothing could be checked."""


@dataclass(frozen=True)
class Finding:
    """One advisory that applies to a pinned package."""

    package: str
    version: str
    id: str
    summary: str


def load_ignored(path: Path = IGNORE_FILE) -> dict[str, str]:
    """Return the accepted advisory ids with their reasons; refuse an entry without a reason."""
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("ignore", [])
    ignored: dict[str, str] = {}
    for entry in entries:
        advisory, reason = str(entry.get("id", "")).strip(), str(entry.get("reason", "")).strip()
        if not advisory or not reason:
            raise ValueError(f"{path}: every [[ignore]] needs an id and a reason: {entry!r}")
        ignored[advisory] = reason
    return ignored


def pip_findings(report: Mapping[str, Any], ignored: Mapping[str, str]) -> list[Finding]:
    """Read pip-audit's JSON report; raise Unreachable when a package could not be checked."""
    unchecked = [
        f"{dep['name']}: {dep['skip_reason']}"
        for dep in report.get("dependencies", [])
        if dep.get("skip_reason")
    ]
    if unchecked:
        raise Unreachable("pip-audit could not check " + "; ".join(unchecked[:3]))
    findings = []
    for dep in report.get("dependencies", []):
        for vuln in dep.get("vulns", []):
            names = {vuln["id"], *vuln.get("aliases", [])}
            if not names & set(ignored):
                summary = vuln.get("description", "")[:120]
                findings.append(Finding(dep["name"], dep["version"], vuln["id"], summary))
    return findings


def npm_findings(report: Mapping[str, Any], ignored: Mapping[str, str]) -> list[Finding]:
    """Read `npm audit --json`; raise Unreachable when npm could not ask the registry."""
    if "vulnerabilities" not in report:
        message = report.get("message") or report.get("error", {}).get("summary") or report
        raise Unreachable(f"npm audit: {message}")
    findings = []
    for name, vuln in report["vulnerabilities"].items():
        if vuln.get("severity") not in ("high", "critical"):
            continue
        for via in vuln.get("via", []):
            if not isinstance(via, dict):
                continue  # a dependency's advisory, reported under that dependency
            advisory = str(via.get("url", "")).rsplit("/", 1)[-1] or str(via.get("source"))
            if advisory not in ignored:
                found = Finding(name, str(vuln.get("range", "")), advisory, via.get("title", ""))
                findings.append(found)
    return findings


def _run(command: list[str], cwd: Path) -> dict[str, Any]:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise Unreachable(f"{command[0]} took longer than {TIMEOUT:.0f} s") from None
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise Unreachable(f"{' '.join(command[:2])}: {tail[0]}") from None
    return report


def audit(node_folders: Iterable[str] = NODE_FOLDERS) -> list[Finding]:
    """Run both audits; return what they found that is not accepted."""
    ignored = load_ignored()
    pip = [sys.executable, "-m", "pip_audit", "-r", "requirements.txt", "-f", "json"]
    pip += ["--progress-spinner", "off"]
    findings = pip_findings(_run(pip, REPO), ignored)
    for folder in node_folders:
        if (REPO / folder / "package-lock.json").exists():
            npm = ["npm", "audit", "--omit=dev", "--audit-level=high", "--json"]
            findings += npm_findings(_run(npm, REPO / folder), ignored)
    return findings


def main() -> int:
    """Print the findings; return the exit status."""
    try:
        findings = audit()
    except Unreachable as exc:
        print(f"audit NOT done: the advisory service could not be asked ({exc})", file=sys.stderr)
        return EXIT_UNREACHABLE
    for finding in findings:
        print(f"{finding.package} {finding.version}: {finding.id} {finding.summary}")
    if findings:
        print(f"{len(findings)} advisories; fix the pin or list them in {IGNORE_FILE.name}")
        return EXIT_FOUND
    print("audit: no known advisories in the pinned Python and Node packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
