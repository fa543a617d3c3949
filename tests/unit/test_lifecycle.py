"""Waiting for the SCP to install or uninstall, and for a component thread to change state."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_lifecycle as lifecycle
from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller, WaitFailed
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult


def status(rows, log=()):
    return PlanResult(
        {
            "components": StepResult("components", True, list(rows), None),
            "sitecomp": StepResult("sitecomp", True, list(log), None),
        }
    )


def rows(server, state, components=lifecycle.COMPONENTS):
    return [{"ComponentName": c, "MachineName": server.upper(), "SiteCode": "CAS", "State": state, "Status": 0} for c in components]


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now


def poller(timeout=60, interval=5):
    t = FakeTime()
    return Poller(timeout, interval, sleep=t.sleep, clock=t.clock)


def run(results, goal, timeout=60, interval=5, baseline=frozenset()):
    feed = iter(results)
    progress, last = lifecycle.wait_for(lambda: next(feed), "scp01.lab.example", goal, poller(timeout, interval), baseline)
    assert last is results[progress["polls"] - 1]  # the last read, for the next step to use
    return progress


def test_the_status_read_is_one_cim_query_and_the_log_tail():
    plan = lifecycle.status_plan()
    assert [s.id for s in plan.steps] == ["components", "tracing", "sitecomp"]
    assert plan.steps[0].params["Filter"] == (
        "TallyInterval='0001128000100008' AND "
        "(ComponentName LIKE 'SMS_DMP_%' OR ComponentName='SMS_SERVICE_CONNECTOR' "
        "OR ComponentName='SMS_SITE_COMPONENT_MANAGER')"
    )
    assert [s.id for s in lifecycle.status_plan(log=False).steps] == ["components"]
    assert [s.id for s in lifecycle.log_plan().steps] == ["tracing", "sitecomp"]


def test_install_is_seen_through_the_component_states():
    progress = run([status([]), status(rows("scp01.lab.example", 3)), status(rows("scp01.lab.example", 1))], "installed")
    assert progress["states_seen"] == [
        "no components",
        "SMS_DMP_DOWNLOADER installing, SMS_DMP_UPLOADER installing, SMS_SERVICE_CONNECTOR installing",
        "SMS_DMP_DOWNLOADER started, SMS_DMP_UPLOADER started, SMS_SERVICE_CONNECTOR started",
    ]
    assert progress["polls"] == 3 and progress["elapsed"] == 10


def test_components_of_other_servers_do_not_count():
    progress = run([status(rows("ps1.lab.example", 1)), status(rows("scp01.lab.example", 1))], "installed")
    assert progress["polls"] == 2


def test_an_install_failure_in_sitecomp_log_fails_early_with_the_line():
    log = [
        "Installing component SMS_DMP_DOWNLOADER on scp01.lab.example...",
        "Failed to install on server SCP01: LAB\\CAS$ is not a local administrator  $$<SMS_SITE_COMPONENT_MANAGER>...",
    ]
    with pytest.raises(WaitFailed) as e:
        run([status([]), status([], log)], "installed")
    assert "not a local administrator" in e.value.message
    assert e.value.progress["polls"] == 2
    assert e.value.progress["sitecomp_log"] == log


def test_a_success_line_after_a_failure_does_not_fail():
    log = ["Failed to install on scp01.lab.example", "Bootstrap operation successful on scp01.lab.example."]
    assert run([status([], log), status(rows("scp01.lab.example", 1), log)], "installed")["polls"] == 2


def test_timeout_says_what_was_last_seen():
    with pytest.raises(WaitFailed, match=r"did not install on scp01.lab.example within 10 seconds .*installing"):
        run([status(rows("scp01.lab.example", 3))] * 10, "installed", timeout=10, interval=5)


def test_uninstall_waits_until_no_component_is_left():
    progress = run(
        [status(rows("scp01.lab.example", 5)), status(rows("scp01.lab.example", 5, ["SMS_DMP_UPLOADER"])), status([])], "removed"
    )
    assert progress["states_seen"][-1] == "no components"


def test_leftovers_ignore_the_server_that_keeps_the_role():
    result = status(rows("scp01.lab.example", 1) + rows("ps1.lab.example", 5))
    assert list(lifecycle.leftovers(result, "scp01.lab.example")) == ["ps1.lab.example"]


def test_the_poller_records_states_in_order_and_times_out_naming_them():
    states = iter(["Running", "Stopping", "Stopping", "Stopped"])
    p = poller(timeout=30, interval=2)
    p.until(lambda: next(states), lambda s: s == "Stopped", on_timeout=lambda p: "never")
    assert p.seen == ["Running", "Stopping", "Stopped"]
    with pytest.raises(AnsibleActionFail, match="did not reach Running within 30 seconds; states seen: Running, Stopping, Stopped"):
        p.until(
            lambda: "Stopped",
            lambda s: s == "Running",
            on_timeout=lambda p: f"X did not reach Running within {p.timeout:g} seconds; states seen: {p.states_seen()}.",
        )
    assert p.polls == 4 + 16  # then one read at 0 s and every 2 s up to the deadline


def test_the_poller_stops_at_a_failure_it_reads_and_never_sleeps_after_the_last_read():
    slept = []
    p = Poller(60, 5, sleep=slept.append, clock=lambda: 0.0)
    with pytest.raises(WaitFailed, match="broken") as e:
        p.until(
            iter(["a", "b", "broken"]).__next__,
            lambda s: False,
            failure=lambda s: s if s == "broken" else None,
            on_timeout=lambda p: "timeout",
        )
    assert slept == [5, 5] and e.value.poller.seen == ["a", "b", "broken"] and not e.value.timed_out


def test_a_failure_logged_before_the_wait_does_not_fail_it():
    old = ["Failed to install on server scp01.lab.example: not a local administrator (old attempt)"]
    progress = run([status([], old), status(rows("scp01.lab.example", 1), old)], "installed", baseline=frozenset(old))
    assert progress["polls"] == 2


DEINSTALL_FAILED = [
    "Component SMS_DMP_DOWNLOADER flagged for deinstallation.  $$<SMS_SITE_COMPONENT_MANAGER><11-29-2026 06:50:04.123+000>",
    "ERROR: Cannot connect to server ps1.lab.example to deinstall SMS Dmp Connector: the server cannot be reached "
    "(The network path was not found.).  $$<SMS_SITE_COMPONENT_MANAGER><11-29-2026 06:50:04.125+000>",
    "Failed to deinstall SMS Dmp Connector from server ps1.lab.example. Will retry in 5 seconds.  "
    "$$<SMS_SITE_COMPONENT_MANAGER><11-29-2026 06:50:04.126+000>",
]


def test_a_deinstall_failure_fails_the_wait_early_with_the_lines_and_where_they_were_read():
    feed = iter([status(rows("ps1.lab.example", 5)), status(rows("ps1.lab.example", 5), DEINSTALL_FAILED)])
    with pytest.raises(WaitFailed) as e:
        lifecycle.wait_for(lambda: next(feed), "ps1.lab.example", "removed", poller(), where=" of site PS1 on ps1.lab.example")
    assert e.value.message.startswith(
        "Site Component Manager of site PS1 on ps1.lab.example could not uninstall the "
        "service connection point from ps1.lab.example: ERROR: Cannot connect"
    )
    assert "Will retry in 5 seconds." in e.value.message and "$$<" not in e.value.message
    assert e.value.progress["polls"] == 2 and not e.value.timed_out


def test_an_old_deinstall_failure_does_not_fail_the_wait():
    feed = iter([status(rows("ps1.lab.example", 5), DEINSTALL_FAILED), status([], DEINSTALL_FAILED)])
    progress, _ = lifecycle.wait_for(lambda: next(feed), "ps1.lab.example", "removed", poller(), baseline=frozenset(DEINSTALL_FAILED))
    assert progress["polls"] == 2


def test_an_install_failure_of_the_site_system_names_it_not_the_scp():
    log = [
        "Failed to install SMS Site System on server scp01.lab.example. Will retry in 60 seconds.",
        "Failed to install SMS Dmp Connector on server scp01.lab.example. Will retry in 60 seconds.",
    ]
    with pytest.raises(WaitFailed) as e:
        run([status([], log)], "installed")
    assert e.value.message.startswith(
        "Site Component Manager could not install SMS Site System on scp01.lab.example, "
        "so the service connection point cannot install there either"
    )


def test_the_progress_shows_site_component_managers_status():
    row = {"ComponentName": "SMS_SITE_COMPONENT_MANAGER", "MachineName": "CAS.LAB.EXAMPLE", "SiteCode": "CAS", "State": 1, "Status": 2}
    feed = iter([status([*rows("scp01.lab.example", 1), row])])
    progress, _ = lifecycle.wait_for(lambda: next(feed), "scp01.lab.example", "installed", poller(), site_server="cas.lab.example")
    assert progress["site_component_manager"] == "Critical"
    assert lifecycle.component_states(status([row])) == {}  # not an SCP component


def test_the_writes_own_read_is_the_first_poll_and_the_next_read_waits_one_interval():
    """A write plan that reads the status back in its own invocation saves the wait one engine invocation: that
    read is the first poll, and the first read of the wait comes one poll interval after the write."""
    t = FakeTime()
    reads_at = []
    later = iter([status(rows("scp01.lab.example", 1))])

    def read():
        reads_at.append(t.now)
        return next(later)

    written = status(rows("scp01.lab.example", 3))
    progress, last = lifecycle.wait_for(read, "scp01.lab.example", "installed", Poller(60, 5, sleep=t.sleep, clock=t.clock), first=written)
    assert reads_at == [5.0]  # never at once: the write has just read the state
    assert progress["polls"] == 2 and progress["states_seen"][0].endswith("installing")
    assert last is not written


def test_a_goal_the_write_already_shows_needs_no_read_at_all():
    def read():
        raise AssertionError("no read: the write's own read showed the goal")

    progress, last = lifecycle.wait_for(read, "scp01.lab.example", "removed", poller(), first=status([]))
    assert progress["polls"] == 1 and progress["elapsed"] == 0 and last.output("components") == []


def test_a_failure_the_write_already_read_ends_the_wait_at_once():
    log = ["Failed to install on server SCP01: access is denied  $$<SMS_SITE_COMPONENT_MANAGER>..."]
    with pytest.raises(WaitFailed, match="access is denied"):
        lifecycle.wait_for(lambda: pytest.fail("no read"), "scp01.lab.example", "installed", poller(), first=status([], log))
