"""The guardrail state machine, as a pure function, and the observations it is fed.

    step(memory, observation, rules) -> (memory, actions)

No database, no clock: a property test can replay any sequence of observations against a
reference model. The service in services.evaluate_guardrail computes the observation, calls
`step`, stores the memory and carries out the actions."""

from __future__ import annotations

from dataclasses import dataclass

HEALTHY, WARNING, BREACHED, INSUFFICIENT = "healthy", "warning", "breached", "insufficient_data"

# Observation levels
OK, WARN, CRITICAL, NO_SAMPLES = "ok", "warning", "critical", "insufficient"

# Actions
ALERT_WARNING = "alert_warning"
ALERT_BREACH = "alert_breach"
ROLL_BACK = "roll_back"
PAUSE = "pause"


@dataclass(frozen=True)
class Memory:
    state: str = INSUFFICIENT
    breach_streak: int = 0
    fired: bool = False


@dataclass(frozen=True)
class Rules:
    consecutive: int = 5
    roll_back: bool = True
    pause: bool = False  # when not rolling back: freeze the rollout instead of only alerting


def step(memory: Memory, level: str, rules: Rules) -> tuple[Memory, tuple[str, ...]]:
    """One evaluation.

    - too few samples: insufficient data; the breach run is broken (it must be consecutive)
    - ok: healthy; the guardrail re-arms
    - warning: warning (alert once on entering it); the breach run is broken
    - critical: the run grows; at `consecutive` the state is breached and the guardrail fires
      once (roll back, pause, or alert when it is alert-only); before that it shows as a warning
    """
    if level == NO_SAMPLES:
        return Memory(INSUFFICIENT, 0, memory.fired), ()
    if level == OK:
        return Memory(HEALTHY, 0, False), ()
    if level == WARN:
        actions = () if memory.state == WARNING else (ALERT_WARNING,)
        return Memory(WARNING, 0, memory.fired), actions
    if level != CRITICAL:
        raise ValueError(f"unknown observation level {level!r}")
    streak = memory.breach_streak + 1
    if streak < rules.consecutive:
        actions = () if memory.state in (WARNING, BREACHED) else (ALERT_WARNING,)
        return Memory(WARNING, streak, memory.fired), actions
    if memory.fired:
        return Memory(BREACHED, streak, True), ()
    action = ROLL_BACK if rules.roll_back else PAUSE if rules.pause else ALERT_BREACH
    return Memory(BREACHED, streak, True), (action,)


def threshold_level(kpi_level: str, samples: int, min_samples: int) -> str:
    if samples < max(min_samples, 1) or kpi_level == "none":
        return NO_SAMPLES
    return {"ok": OK, "warning": WARN, "critical": CRITICAL}[kpi_level]


def no_data_level(seconds_since_data: float | None, limit_seconds: int, *, watching: bool) -> str:
    """Silence longer than the limit is critical; before traffic flows there is nothing to expect."""
    if not watching:
        return NO_SAMPLES
    if seconds_since_data is None or seconds_since_data > limit_seconds:
        return CRITICAL
    return OK


def baseline_level(
    value: float | None, baseline: float | None, percent: float, *, higher_is_better: bool
) -> str:
    """Critical when `percent` worse than the baseline, warning at half of that."""
    if value is None or baseline is None:
        return NO_SAMPLES
    change = percent / 100.0
    if higher_is_better:
        if value < baseline * (1 - change):
            return CRITICAL
        return WARN if value < baseline * (1 - change / 2) else OK
    if value > baseline * (1 + change):
        return CRITICAL
    return WARN if value > baseline * (1 + change / 2) else OK
