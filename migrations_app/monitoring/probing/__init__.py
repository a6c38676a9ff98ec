"""Running probes: SSRF-safe HTTP (net), the probe kinds (kinds) and a JSONPath subset."""

from migrations_app.monitoring.probing.kinds import Outcome, ProbeSpec, run
from migrations_app.monitoring.probing.net import ProbeTargetRefused, ProbeTransportError, resolve_target

__all__ = ["Outcome", "ProbeSpec", "ProbeTargetRefused", "ProbeTransportError", "resolve_target", "run"]
