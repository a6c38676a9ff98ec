"""Running probes: SSRF-safe HTTP (net), the probe kinds (kinds), the loop they run on (loop)
and a JSONPath subset."""

from migrations_app.monitoring.probing.kinds import Outcome, ProbeSpec, run, run_many
from migrations_app.monitoring.probing.net import ProbeTargetRefused, ProbeTransportError, resolve_target

__all__ = [
    "Outcome",
    "ProbeSpec",
    "ProbeTargetRefused",
    "ProbeTransportError",
    "resolve_target",
    "run",
    "run_many",
]
