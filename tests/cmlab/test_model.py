"""The model's rules (docs/configmgr-behaviour.md#site-system-servers, #placement-and-move) and its Windows side, without any engine."""

from __future__ import annotations

import json
import time

import pytest

from cmlab.model import (
    ROLE_SCP,
    ROLE_SITE_SYSTEM,
    AlreadyExists,
    Domain,
    InvalidArgument,
    LabModel,
    NotFound,
    RuleViolation,
    Scheduler,
    SimClock,
    Site,
    SiteSystemSettings,
    SiteType,
    literal_pattern,
    parse_registry_path,
    wildcard_match,
)
from cmlab.topology import load_topology
from tests.fixtures import LAB_PASSWORD


@pytest.fixture
def model() -> LabModel:
    return load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD)


@pytest.fixture
def lab(model):
    return model.hierarchy("lab")


def test_default_lab_keeps_the_scp_at_the_child_primary(lab):
    ss, role = lab.scp()
    assert (ss.site_code, ss.server, lab.scp_mode(role)) == ("PS1", "ps1.lab.example", "Online")
    assert lab.top_level_site().code == "CAS"
    assert lab.sites["PS1"].reporting_site_code == "CAS"


def test_one_scp_per_hierarchy(lab):
    lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings(use_site_server_account=True))
    with pytest.raises(RuleViolation, match="single instance"):
        lab.add_scp("CAS", "scp01.lab.example", "Online")


def test_scp_only_at_the_top_level_site(lab):
    lab.remove_role(lab.site_system("PS1", "ps1.lab.example"), ROLE_SCP)
    with pytest.raises(RuleViolation, match="top-level site"):
        lab.add_scp("PS1", "ps1.lab.example", "Online")


def test_scp_target_must_already_be_a_site_system(lab):
    lab.remove_role(lab.site_system("PS1", "ps1.lab.example"), ROLE_SCP)
    with pytest.raises(NotFound, match="not a site system server of site CAS"):
        lab.add_scp("CAS", "scp01.lab.example", "Offline")
    lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings())
    ss, role = lab.add_scp("CAS", "scp01.lab.example", "Offline")
    assert lab.scp_mode(role) == "Offline" and role.prop("OfflineMode").value == 1
    assert ss.role_count == 2


def test_unknown_server_is_refused(lab):
    with pytest.raises(NotFound, match="cannot be found"):
        lab.new_site_system("CAS", "nowhere.lab.example", SiteSystemSettings())
    with pytest.raises(NotFound):
        lab.new_site_system("CAS", "scp01", SiteSystemSettings())  # short names do not resolve


def test_new_site_system_twice_fails(lab):
    lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings())
    with pytest.raises(AlreadyExists, match="already exists"):
        lab.new_site_system("CAS", "SCP01.lab.example", SiteSystemSettings())


def test_remove_site_system_fails_while_other_roles_remain(lab):
    ss = lab.site_system("PS1", "ps1.lab.example")
    with pytest.raises(RuleViolation, match="other site system roles"):
        lab.remove_site_system(ss)
    new = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings())
    lab.remove_site_system(new)
    assert lab.site_system("CAS", "scp01.lab.example") is None


def test_site_installation_roles_cannot_be_removed(lab):
    ss = lab.site_system("CAS", "cas.lab.example")
    for role in ("SMS Site Server", "SMS Provider", ROLE_SITE_SYSTEM):
        with pytest.raises(RuleViolation):
            lab.remove_role(ss, role)


def test_installation_account_must_exist_and_not_with_site_server_account(lab):
    with pytest.raises(NotFound, match="does not exist in site CAS"):
        lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings(account_name="LAB\\svc-cminstall"))
    with pytest.raises(InvalidArgument, match="cannot be used together"):
        lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings(use_site_server_account=True, account_name="LAB\\svc-cmnaa"))
    assert lab.site_system("CAS", "scp01.lab.example") is None  # a refused call leaves no trace
    ss = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings(account_name="lab\\SVC-CMNAA"))
    assert (ss.use_machine_account, ss.account) == (False, "LAB\\svc-cmnaa")
    lab.set_site_system(ss, SiteSystemSettings(use_site_server_account=True))
    assert (ss.use_machine_account, ss.account) == (True, "")


def test_proxy_rules(lab):
    ss = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings())
    with pytest.raises(InvalidArgument, match="ProxyServerName is required"):
        lab.set_site_system(ss, SiteSystemSettings(enable_proxy=True))
    with pytest.raises(InvalidArgument, match="EnableProxy"):
        lab.set_site_system(ss, SiteSystemSettings(proxy_port=3128))
    lab.set_site_system(ss, SiteSystemSettings(enable_proxy=True, proxy_server="proxy.lab.example"))
    assert (ss.proxy.enabled, ss.proxy.port, ss.proxy.account) == (True, 80, "")
    lab.set_site_system(ss, SiteSystemSettings(proxy_port=3128, proxy_account="LAB\\svc-cmnaa"))
    assert (ss.proxy.server, ss.proxy.port, ss.proxy.account) == ("proxy.lab.example", 3128, "LAB\\svc-cmnaa")
    lab.set_site_system(ss, SiteSystemSettings(enable_proxy=False))
    assert not ss.proxy.enabled and ss.proxy.server == ""


def test_accounts_keep_only_a_fingerprint(model, lab):
    account = lab.new_account("CAS", "LAB\\svc-cminstall", "Hunter2-secret")
    assert account.fingerprint.matches("Hunter2-secret") and not account.fingerprint.matches("hunter2-secret")
    lab.set_account_password(account, "Another-secret")
    assert account.password_version == 2
    dumped = json.dumps(model.dump())
    for secret in ("Hunter2-secret", "Another-secret", LAB_PASSWORD):
        assert secret not in dumped
    assert "PasswordFingerprint(<hidden>)" == repr(account.fingerprint)


def test_account_rules(lab):
    with pytest.raises(InvalidArgument, match="domain\\\\user"):
        lab.new_account("CAS", "svc-cminstall", "x")
    with pytest.raises(AlreadyExists):
        lab.new_account("CAS", "lab\\SVC-CMNAA", "x")
    ss = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings(account_name="LAB\\svc-cmnaa"))
    with pytest.raises(RuleViolation, match="in use"):
        lab.remove_account(lab.account("CAS", "LAB\\svc-cmnaa"))
    lab.set_site_system(ss, SiteSystemSettings(use_site_server_account=True))
    lab.remove_account(lab.account("CAS", "LAB\\svc-cmnaa"))
    assert lab.find_accounts() == []


def test_finders_return_nothing_for_unknown_names(lab):
    assert lab.find_site_systems(["CAS"], "nothere.lab.example") == []
    assert lab.find_roles(None, None, "SMS Nothing") == []
    assert lab.find_accounts(None, "LAB\\nobody") == []
    assert [s.code for s in lab.find_sites("P*")] == ["PS1"]


def test_wildcards():
    assert wildcard_match("*.LAB.example", "scp01.lab.example")
    assert wildcard_match("ps?.lab.example", "ps1.lab.example")
    assert not wildcard_match("ps?.lab.example", "ps10.lab.example")
    assert wildcard_match("[x]", "[x]")  # brackets are literal
    assert wildcard_match(literal_pattern("a*"), "a*") and not wildcard_match(literal_pattern("a*"), "ab")


def test_hierarchy_site_parent_must_exist(model):
    h = model.add_hierarchy("other")
    with pytest.raises(NotFound):
        h.add_site(Site("P02", "x", SiteType.PRIMARY, "scp01.lab.example", "scp01.lab.example", reporting_site_code="C02"))


def test_registry_model(model):
    host = model.host("cas.lab.example")
    assert host.registry.get_value(r"HKLM:\SOFTWARE\Microsoft\SMS\Identification", "site code") == "CAS"
    assert host.registry.key(r"Registry::HKEY_LOCAL_MACHINE\software\microsoft\sms") is not None
    host.registry.set_value(r"HKLM:\SOFTWARE\Test", "Number", 5)
    assert host.registry.key(r"HKLM:\SOFTWARE\Test").value("number").kind == "DWord"
    host.registry.delete_key(r"HKLM:\SOFTWARE\Test")
    assert host.registry.key(r"HKLM:\SOFTWARE\Test") is None
    assert parse_registry_path(r"C:\Windows") is None
    assert parse_registry_path("HKLM") is None  # no colon: a relative path
    assert parse_registry_path(r"HKLM:\A\B") == ("HKEY_LOCAL_MACHINE", ["A", "B"])


def test_hosts_services_groups(model):
    cas, scp01 = model.host("cas.lab.example"), model.host("scp01.lab.example")
    assert cas.service("sms_executive").status == "Running"
    assert scp01.service("SMS_EXECUTIVE") is None
    assert cas.console_installed and not scp01.console_installed
    assert scp01.is_local_admin("LAB\\cmadmin")  # through LAB\Domain Admins
    assert not scp01.is_local_admin("LAB\\CAS$")
    assert model.host("ps1.lab.example").is_local_admin("lab\\cas$")
    assert scp01.computer_account == "LAB\\SCP01$"


def test_domain_verify():
    domain = Domain("lab", "LAB.example")
    domain.add_user("someone", "pw-1")
    assert domain.verify("LAB\\someone", "pw-1") and domain.verify("someone@lab.example", "pw-1")
    assert not domain.verify("LAB\\someone", "pw-2") and not domain.verify("OTHER\\someone", "pw-1")


def test_clock_and_scheduler():
    clock = SimClock(start=1000.0, frozen=True)
    scheduler = Scheduler(clock)
    ran = []
    scheduler.call_later(30, lambda: ran.append("install"), "install scp01")
    assert scheduler.run_due() == 0 and scheduler.pending() == ["install scp01"]
    clock.advance(30)
    assert scheduler.run_due() == 1 and ran == ["install"]


def test_dump_is_deterministic_and_json(monkeypatch):
    # The simulated clock starts at the wall clock (the SCP's first sync records it): both builds start at the
    # same second, as two labs started together would.
    monkeypatch.setattr(time, "time", lambda: 1_795_950_000.0)
    first = json.dumps(load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD).dump(), sort_keys=True)
    again = load_topology("inventories/lab/cmlab.yml").build_model("another-password")
    assert first == json.dumps(again.dump(), sort_keys=True)


def settle(model, seconds: float | None = None) -> None:
    """Let Site Component Manager act: advance the simulated clock and run what is due."""
    model.clock.advance(model.configmgr_timing.install_delay if seconds is None else seconds)
    with model.lock:
        model.scheduler.run_due()


def test_site_component_manager_needs_an_administrator_on_the_target(model, lab):
    ss = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings())
    role = ss.role(ROLE_SITE_SYSTEM)
    assert role.state == "installing"  # recorded at once, installed later (docs/configmgr-behaviour.md#asynchronous-installation)
    settle(model)
    assert role.state == "install_failed"
    assert role.detail == ("LAB\\CAS$ (the site server's computer account) is not a local administrator on scp01.lab.example")
    lab.remove_site_system(ss)
    model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\CAS$")
    ss = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings())
    lab.remove_role(lab.site_system("PS1", "ps1.lab.example"), ROLE_SCP)
    _, scp = lab.add_scp("CAS", "scp01.lab.example", "Online")
    settle(model)
    assert ss.role(ROLE_SITE_SYSTEM).state == scp.state == "installed"
    assert "detail" not in json.dumps(model.dump()["hierarchies"]["lab"]["site_systems"])


def test_site_component_manager_with_an_installation_account(model, lab):
    model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\svc-cmnaa")
    ss = lab.new_site_system("CAS", "scp01.lab.example", SiteSystemSettings(account_name="LAB\\svc-cmnaa"))
    settle(model)
    assert ss.role(ROLE_SITE_SYSTEM).state == "installed"
    model.install_fails = lambda server: server == "scp01.lab.example"
    lab.remove_role(lab.site_system("PS1", "ps1.lab.example"), ROLE_SCP)
    _, scp = lab.add_scp("CAS", "scp01.lab.example", "Online")
    settle(model)
    assert (scp.state, scp.detail) == ("install_failed", "install_failure fault injected for this server")
