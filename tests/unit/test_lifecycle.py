"""Waiting for the SCP to install or uninstall, and for a component thread to change state."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _executive
from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_lifecycle as lifecycle
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult


def status(rows, log=()):
    return PlanResult({
        "dmp": StepResult("dmp", True, [r for r in rows if r["ComponentName"].startswith("SMS_DMP")], None),
        "connector": StepResult("connector", True, [r for r in rows if r["ComponentName"] == "SMS_SERVICE_CONNECTOR"], None),
        "sitecomp": StepResult("sitecomp", True, list(log), None),
    })


def rows(server, state, components=lifecycle.COMPONENTS):
    return [{"ComponentName": c, "MachineName": server.upper(), "SiteCode": "CAS", "State": state, "Status": 0}
            for c in components]


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now


def run(results, goal, timeout=60, interval=5):
    t = FakeTime()
    feed = iter(results)
    return lifecycle.wait_for(lambda: next(feed), "scp01.lab.example", goal, timeout, interval, t.sleep, t.clock)


def test_install_is_seen_through_the_component_states():
    progress = run([status([]), status(rows("scp01.lab.example", 3)), status(rows("scp01.lab.example", 1))], "installed")
    assert progress.seen == ["no components",
                             "SMS_DMP_DOWNLOADER installing, SMS_DMP_UPLOADER installing, SMS_SERVICE_CONNECTOR installing",
                             "SMS_DMP_DOWNLOADER started, SMS_DMP_UPLOADER started, SMS_SERVICE_CONNECTOR started"]
    assert progress.polls == 3 and progress.elapsed == 10


def test_components_of_other_servers_do_not_count():
    progress = run([status(rows("ps1.lab.example", 1)), status(rows("scp01.lab.example", 1))], "installed")
    assert progress.polls == 2


def test_an_install_failure_in_sitecomp_log_fails_early_with_the_line():
    log = ["Installing component SMS_DMP_DOWNLOADER on scp01.lab.example...",
           "Failed to install on server SCP01: LAB\\CAS$ is not a local administrator  $$<SMS_SITE_COMPONENT_MANAGER>..."]
    with pytest.raises(lifecycle.WaitFailed) as e:
        run([status([]), status([], log)], "installed")
    assert "not a local administrator" in e.value.message
    assert e.value.progress.polls == 2
    assert e.value.progress.log == log


def test_a_success_line_after_a_failure_does_not_fail():
    log = ["Failed to install on scp01.lab.example", "Bootstrap operation successful on scp01.lab.example."]
    assert run([status([], log), status(rows("scp01.lab.example", 1), log)], "installed").polls == 2


def test_timeout_says_what_was_last_seen():
    with pytest.raises(lifecycle.WaitFailed, match=r"did not install on scp01.lab.example within 10 seconds .*installing"):
        run([status(rows("scp01.lab.example", 3))] * 10, "installed", timeout=10, interval=5)


def test_uninstall_waits_until_no_component_is_left():
    progress = run([status(rows("scp01.lab.example", 5)), status(rows("scp01.lab.example", 5, ["SMS_DMP_UPLOADER"])),
                    status([])], "removed")
    assert progress.seen[-1] == "no components"


def test_leftovers_ignore_the_server_that_keeps_the_role():
    result = status(rows("scp01.lab.example", 1) + rows("ps1.lab.example", 5))
    assert list(lifecycle.leftovers(result, "scp01.lab.example")) == ["ps1.lab.example"]


def test_thread_watch_records_states_in_order_and_times_out():
    t = FakeTime()
    states = iter(["Running", "Stopping", "Stopping", "Stopped"])
    watch = _executive.Watch(timeout=30, interval=2, sleep=t.sleep, clock=t.clock)
    watch.until(lambda: next(states), "Stopped", "SMS_DMP_DOWNLOADER")
    assert watch.seen == ["Running", "Stopping", "Stopped"]
    with pytest.raises(AnsibleActionFail, match="did not reach Running within 30 seconds; states seen: Running, Stopping, Stopped"):
        watch.until(lambda: "Stopped", "Running", "SMS_DMP_DOWNLOADER")


def test_a_failure_logged_before_the_wait_does_not_fail_it():
    old = ["Failed to install on server scp01.lab.example: not a local administrator (old attempt)"]
    t = FakeTime()
    feed = iter([status([], old), status(rows("scp01.lab.example", 1), old)])
    progress = lifecycle.wait_for(lambda: next(feed), "scp01.lab.example", "installed", 60, 5, t.sleep, t.clock,
                                  baseline=frozenset(old))
    assert progress.polls == 2
