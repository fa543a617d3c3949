"""Site system server decisions: installation account and proxy, from CIM reads shaped like the real instances."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _hierarchy, _site_system
from ansible_collections.configmgr.scp.plugins.plugin_utils._site_system import Desired, check_proxy_options

SITES = [
    {"SiteCode": "CAS", "ReportingSiteCode": "", "Type": 4, "CimSystemProperties": {"Namespace": "root/SMS/site_CAS"}},
    {"SiteCode": "PS1", "ReportingSiteCode": "CAS", "Type": 2, "CimSystemProperties": {"Namespace": "root/SMS/site_CAS"}},
]


def prop(name, value=0, value2=""):
    return {"PropertyName": name, "Value": value, "Value1": "", "Value2": value2}


def site_system(site="CAS", machine=1, user="", proxy=None):
    props = [prop("UseMachineAccount", machine), prop("UserName", 0, user)]
    if proxy:
        server, port, account = proxy
        props += [
            prop("UseProxy", 1),
            prop("ProxyName", 0, server),
            prop("ProxyServerPort", port),
            prop("ProxyUserName", 0, account or ""),
            prop("AnonymousProxyAccess", 0 if account else 1),
        ]
    else:
        props += [prop("UseProxy", 0), prop("AnonymousProxyAccess", 1)]
    return {"SiteCode": site, "RoleName": "SMS Site System", "NetworkOSPath": "\\\\scp01.lab.example", "RoleCount": 1, "Props": props}


def role(name, site="CAS"):
    return {"SiteCode": site, "RoleName": name, "NetworkOSPath": "\\\\scp01.lab.example", "Props": []}


ACCOUNTS = [{"UserName": "LAB\\cm-install", "SiteCode": "CAS"}, {"UserName": "LAB\\cm-proxy", "SiteCode": "CAS"}]


class Seen:
    """The Decision in the terms these tests speak."""

    def __init__(self, decision):
        self.decision = decision
        self.changed = decision.changed
        self.warnings = decision.warnings
        self.action = decision.changes.action if decision.changes else None
        self.params = decision.changes.params if decision.changes else {}
        self.proxy_account = decision.changes.proxy_account if decision.changes else None
        self.before = SimpleNamespace(**decision.before)
        self.after = SimpleNamespace(**decision.after)


def decide(targets=(), roles=(), accounts=ACCOUNTS, check_mode=False, **wishes):
    d = check_proxy_options(Desired(**{"server": "scp01.lab.example", **wishes}))
    rows = [*targets, *roles]
    seen = _hierarchy.Hierarchy(
        sites=_hierarchy.parse_sites(SITES),
        provider_site="CAS",
        roles=_hierarchy.parse_roles(rows),
        accounts=_hierarchy.parse_accounts(list(accounts)),
    )
    return Seen(_site_system.decide(d, seen, check_mode=check_mode))


def test_new_server_defaults_to_site_server_account_at_top_level_site():
    d = decide()
    assert (d.action, d.params) == ("new", {"UseSiteServerAccount": True})
    assert d.after.site_code == "CAS" and d.after.use_site_server_account is True


def test_installation_account_must_exist_in_configmgr():
    with pytest.raises(AnsibleActionFail, match=r"installation_account LAB.other is not a Configuration Manager account"):
        decide(installation_account="LAB\\other")


def test_missing_account_is_only_a_warning_in_check_mode():
    d = decide(installation_account="LAB\\other", check_mode=True)
    assert d.action == "new"
    assert "assumes an earlier task" in d.warnings[0]


def test_new_server_with_installation_account():
    d = decide(installation_account="LAB\\cm-install")
    assert d.params == {"AccountName": "LAB\\cm-install"}
    assert d.after.installation_account == "LAB\\cm-install"


def test_existing_server_keeps_its_account_when_none_is_asked():
    d = decide(targets=[site_system(machine=0, user="LAB\\cm-install")])
    assert not d.changed
    assert d.before.installation_account == "LAB\\cm-install"


def test_switch_from_account_to_site_server_account():
    d = decide(use_site_server_account=True, targets=[site_system(machine=0, user="LAB\\cm-install")])
    assert (d.action, d.params) == ("set", {"UseSiteServerAccount": True})


def test_same_account_differently_cased_is_unchanged():
    assert not decide(installation_account="lab\\CM-INSTALL", targets=[site_system(machine=0, user="LAB\\cm-install")]).changed


def test_membership_at_another_site_does_not_count():
    d = decide(targets=[site_system(site="PS1")])
    assert d.action == "new" and d.before.present is False


def test_removal_refused_while_roles_remain_and_names_them():
    with pytest.raises(AnsibleActionFail, match="SMS Dmp Connector"):
        decide(state="absent", targets=[site_system()], roles=[role("SMS Dmp Connector")])


def test_removal_when_only_site_system_role():
    d = decide(state="absent", targets=[site_system()], roles=[role("SMS Component Server"), role("SMS Dmp Connector", "PS1")])
    assert d.action == "remove" and d.after.present is False


def test_absent_and_missing_is_unchanged():
    assert not decide(state="absent").changed


# Proxy (docs/configmgr-behaviour.md#site-system-servers)


def test_proxy_options_without_a_proxy_server_are_refused():
    with pytest.raises(AnsibleActionFail, match="need a proxy: set proxy_server"):
        check_proxy_options(Desired(server="s.lab.example", proxy_port=8080))


def test_enable_proxy_without_server_is_refused():
    with pytest.raises(AnsibleActionFail, match="enable_proxy: true needs proxy_server"):
        check_proxy_options(Desired(server="s.lab.example", enable_proxy=True))


def test_proxy_options_with_proxy_disabled_are_refused():
    with pytest.raises(AnsibleActionFail, match="cannot be set with enable_proxy: false"):
        check_proxy_options(Desired(server="s.lab.example", enable_proxy=False, proxy_server="proxy.lab.example"))


def test_enabling_sends_server_port_and_account_together():
    d = decide(targets=[site_system()], proxy_server="proxy.lab.example", proxy_port=3128, proxy_account="LAB\\cm-proxy")
    assert d.action == "set"
    assert d.params == {
        "EnableProxy": True,
        "ProxyServerName": "proxy.lab.example",
        "ProxyServerPort": 3128,
        "ProxyAccessAccount": {"$ref": "proxy_account"},
    }
    assert d.proxy_account == ("LAB\\cm-proxy", "CAS")
    plan = _site_system.write_plan(d.decision.changes, "scp01.lab.example")
    assert [s.cmdlet for s in plan.steps] == ["Get-CMAccount", "Set-CMSiteSystemServer", "Get-CimInstance"]
    # Exactly one account object: the one of one site (Get-CMAccount without -SiteCode returns one per site).
    assert plan.steps[0].params == {"UserName": "LAB\\cm-proxy", "SiteCode": "CAS", "DisableWildcardHandling": True}
    assert list(plan.actions) == ["set"]


def test_an_account_at_several_sites_is_taken_at_the_site_systems_own_site():
    accounts = [{"UserName": "LAB\\cm-proxy", "SiteCode": "PS1"}, {"UserName": "LAB\\cm-proxy", "SiteCode": "CAS"}]
    d = decide(
        targets=[site_system(site="PS1")],
        site_code="PS1",
        accounts=accounts,
        proxy_server="proxy.lab.example",
        proxy_account="LAB\\cm-proxy",
    )
    assert d.proxy_account == ("LAB\\cm-proxy", "PS1")
    d = decide(
        targets=[site_system(site="PS1")],
        site_code="PS1",
        accounts=accounts[1:],
        proxy_server="proxy.lab.example",
        proxy_account="LAB\\cm-proxy",
    )
    assert d.proxy_account == ("LAB\\cm-proxy", "CAS")  # only at the CAS: that one


def test_the_read_is_one_cim_invocation_of_sites_the_servers_roles_and_the_accounts():
    plan = _site_system.read_plan("scp01.lab.example", ["LAB\\cm-install", "LAB\\cm-proxy"])
    assert [(s.cmdlet, s.params["ClassName"]) for s in plan.steps] == [
        ("Get-CimInstance", "SMS_Site"),
        ("Get-CimInstance", "SMS_SCI_SysResUse"),
        ("Get-CimInstance", "SMS_SCI_Reserved"),
    ]
    assert plan.steps[1].params["Filter"] == "NetworkOSPath = '\\\\\\\\scp01.lab.example'"
    assert plan.steps[2].params["Filter"] == "UserName = 'LAB\\\\cm-install' OR UserName = 'LAB\\\\cm-proxy'"


def test_default_port_80_with_a_warning():
    d = decide(targets=[site_system()], proxy_server="proxy.lab.example")
    assert d.params["ProxyServerPort"] == 80
    assert "port 80" in d.warnings[0]


def test_changing_only_the_port_keeps_server_and_account_and_resends_them():
    d = decide(targets=[site_system(proxy=("proxy.lab.example", 8080, "LAB\\cm-proxy"))], proxy_server="proxy.lab.example", proxy_port=3128)
    assert d.params["ProxyServerPort"] == 3128
    assert d.params["ProxyAccessAccount"] == {"$ref": "proxy_account"}
    assert d.after.proxy_account == "LAB\\cm-proxy"


def test_same_proxy_is_unchanged():
    assert not decide(
        targets=[site_system(proxy=("proxy.lab.example", 8080, None))], proxy_server="PROXY.lab.example", proxy_port=8080
    ).changed


def test_disabling_the_proxy():
    d = decide(targets=[site_system(proxy=("proxy.lab.example", 8080, None))], enable_proxy=False)
    assert d.params == {"EnableProxy": False}
    assert d.after.enable_proxy is False and d.after.proxy_server is None


def test_empty_proxy_account_goes_back_to_the_computer_account():
    d = decide(
        targets=[site_system(proxy=("proxy.lab.example", 8080, "LAB\\cm-proxy"))], proxy_server="proxy.lab.example", proxy_account=""
    )
    assert "ProxyAccessAccount" not in d.params and d.params["EnableProxy"] is True
    assert d.after.proxy_account is None
