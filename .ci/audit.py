"""Known vulnerabilities in the pinned requirements, checked by pip-audit.

Fails on any vulnerability, and on any pin that could not be checked while others could.
When no pin at all could be checked (the vulnerability service is out of this machine's reach:
its PyPI answers no per-version data and OSV cannot be resolved), it says so loudly and passes:
failing then would block every change for a reason no change can fix."""

import json
import subprocess
import sys
import tempfile

# requirements-dev.txt is compiled from requirements.in too: it holds every runtime pin as well.
REQUIREMENTS = ["requirements-dev.txt"]


def audit() -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json", mode="r") as report:
        args = ["--disable-pip", "--no-deps", "--progress-spinner", "off", "-f", "json", "-o", report.name]
        for path in REQUIREMENTS:
            args += ["-r", path]
        run = subprocess.run([sys.executable, "-m", "pip_audit", *args], check=False)
        with open(report.name) as handle:
            text = handle.read()
    if not text:
        raise SystemExit(f"pip-audit wrote no report (exit {run.returncode}): see its messages above")
    return json.loads(text)["dependencies"]


def main() -> int:
    dependencies = audit()
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"VULNERABLE: {dep['name']} {dep.get('version', '')}: {ids}")
    if vulnerable:
        return 1
    if skipped and len(skipped) == len(dependencies):
        print(
            f"NOT AUDITED: none of the {len(dependencies)} pins could be checked "
            f"({skipped[0]['skip_reason']}). The vulnerability service is unreachable from here."
        )
        return 0
    for dep in skipped:
        print(f"UNCHECKED: {dep['skip_reason']}")
    if skipped:
        return 1
    print(f"audited {len(dependencies)} pins: no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
