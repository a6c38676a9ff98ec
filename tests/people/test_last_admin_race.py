"""Two Admins demoting each other at the same moment: one demotion wins, golive keeps an Admin."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.people import accounts
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_admins_demoting_each_other_at_once_leave_one_admin():
    ada = make_user("ada", groups=(Group.ADMIN,))
    bob = make_user("bob", groups=(Group.ADMIN,))
    barrier = threading.Barrier(2)
    outcomes = []

    def demote(user, by):
        try:
            barrier.wait(timeout=5)
            accounts.update_user(
                user,
                by=Actor.for_user(by),
                group=Group.OPS,
                first_name="",
                last_name="",
                email="",
                is_active=True,
            )
            outcomes.append("demoted")
        except ValidationError as error:
            outcomes.append(error.message_dict["group"][0])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(ada, bob)),
        threading.Thread(target=demote, args=(bob, ada)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(outcomes) == 2 and outcomes.count("demoted") == 1, outcomes
    assert any("is the last active Admin" in outcome for outcome in outcomes), outcomes
    assert sum(accounts.group_of(u) == Group.ADMIN for u in (ada, bob)) == 1
