"""The guardrail state machine against a reference model, over any sequence of observations."""

from hypothesis import given
from hypothesis import strategies as st

from migrations_app.monitoring import guardrails as g

levels = st.sampled_from([g.OK, g.WARN, g.CRITICAL, g.NO_SAMPLES])


def reference(observations, consecutive, roll_back):
    """Straightforward restatement: fire once per run of `consecutive` criticals; re-arm on ok."""
    run, armed, fired_actions, states = 0, True, [], []
    for index, level in enumerate(observations):
        run = run + 1 if level == g.CRITICAL else 0
        if level == g.OK:
            armed = True
        if level == g.CRITICAL and run >= consecutive and armed:
            fired_actions.append(index)
            armed = False
        if level == g.NO_SAMPLES:
            states.append(g.INSUFFICIENT)
        elif level == g.OK:
            states.append(g.HEALTHY)
        elif level == g.CRITICAL and run >= consecutive:
            states.append(g.BREACHED)
        else:
            states.append(g.WARNING)
    return states, fired_actions


@given(st.lists(levels, max_size=60), st.integers(min_value=1, max_value=6), st.booleans())
def test_the_machine_matches_the_reference_model(observations, consecutive, roll_back):
    memory, states, fired = g.Memory(), [], []
    rules = g.Rules(consecutive=consecutive, roll_back=roll_back)
    for index, level in enumerate(observations):
        memory, actions = g.step(memory, level, rules)
        states.append(memory.state)
        if g.ROLL_BACK in actions or g.ALERT_BREACH in actions:
            fired.append(index)
            assert (g.ROLL_BACK in actions) == roll_back
    expected_states, expected_fired = reference(observations, consecutive, roll_back)
    assert states == expected_states
    assert fired == expected_fired


@given(st.lists(levels, max_size=60))
def test_it_never_fires_without_enough_criticals_in_a_row(observations):
    memory, run = g.Memory(), 0
    for level in observations:
        run = run + 1 if level == g.CRITICAL else 0
        memory, actions = g.step(memory, level, g.Rules(consecutive=5))
        if g.ROLL_BACK in actions:
            assert run >= 5


def test_a_warning_alerts_once_on_entering_it():
    memory, first = g.step(g.Memory(g.HEALTHY), g.WARN, g.Rules())
    _, second = g.step(memory, g.WARN, g.Rules())
    assert first == (g.ALERT_WARNING,)
    assert second == ()
