import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from django.conf import settings


@cache
def golive_version() -> str:
    """The deployed version: GOLIVE_VERSION, else the git short sha, else the package version."""
    if settings.GOLIVE_VERSION:
        return settings.GOLIVE_VERSION
    base = Path(settings.BASE_DIR)
    if (base / ".git").exists():
        try:
            sha = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=base,
                capture_output=True,
                text=True,
                timeout=2,
                check=True,
            ).stdout.strip()
            if sha:
                return sha
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        return metadata.version("golive")
    except metadata.PackageNotFoundError:
        return "0.1.0"
