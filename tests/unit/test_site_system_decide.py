"""Site system server decisions."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp, _site_system

SITES = _scp.parse_sites([
    {"SiteCode": "CAS", "ReportingSiteCode": "", "Type": 4},
    {"SiteCode": "PS1", "ReportingSiteCode": "CAS", "Type": 2},
])


def site_system(site="CAS", machine=1, user=""):
    return {"SiteCode": site, "NetworkOSPath": "\\\\scp01.lab.example", "RoleCount": 1, "Props": [
        {"PropertyName": "UseMachineAccount", "Value": machine, "Value1": "", "Value2": ""},
        {"PropertyName": "UserName", "Value": 0, "Value1": "", "Value2": user},
    ]}


def decide(**overrides):
    args = {"state": "present", "server": "scp01.lab.example", "site_code": None, "use_site_server_account": None,
            "installation_account": None, "sites": SITES, "targets": [], "roles": [], "accounts": []}
    args.update(overrides)
    return _site_system.decide(**args)


def test_new_server_defaults_to_site_server_account_at_top_level_site():
    d = decide()
    assert d.action == "new"
    assert d.params == {"UseSiteServerAccount": True}
    assert d.after.site_code == "CAS"
    assert d.after.use_site_server_account is True


def test_installation_account_must_exist_in_configmgr():
    with pytest.raises(AnsibleActionFail, match=r"installation_account LAB.cm-install is not a Configuration Manager account"):
        decide(installation_account="LAB\\cm-install")


def test_new_server_with_installation_account():
    d = decide(installation_account="LAB\\cm-install", accounts=[{"UserName": "lab\\CM-Install"}])
    assert d.params == {"AccountName": "LAB\\cm-install"}
    assert d.after.installation_account == "LAB\\cm-install"


def test_existing_server_keeps_its_account_when_none_is_asked():
    d = decide(targets=[site_system(machine=0, user="LAB\\cm-install")])
    assert not d.changed
    assert d.before.installation_account == "LAB\\cm-install"


def test_switch_from_account_to_site_server_account():
    d = decide(use_site_server_account=True, targets=[site_system(machine=0, user="LAB\\cm-install")])
    assert (d.action, d.params) == ("set", {"UseSiteServerAccount": True})
    assert d.before.use_site_server_account is False and d.after.use_site_server_account is True


def test_same_account_differently_cased_is_unchanged():
    d = decide(installation_account="lab\\CM-INSTALL", accounts=[{"UserName": "LAB\\cm-install"}],
               targets=[site_system(machine=0, user="LAB\\cm-install")])
    assert not d.changed


def test_membership_at_another_site_does_not_count():
    d = decide(targets=[site_system(site="PS1")])
    assert d.action == "new"
    assert d.before.present is False


def test_removal_refused_while_roles_remain_and_names_them():
    with pytest.raises(AnsibleActionFail, match="SMS Dmp Connector"):
        decide(state="absent", targets=[site_system()], roles=[
            {"SiteCode": "CAS", "RoleName": "SMS Site System"}, {"SiteCode": "CAS", "RoleName": "SMS Dmp Connector"}])


def test_removal_when_only_site_system_role():
    d = decide(state="absent", targets=[site_system()], roles=[{"SiteCode": "CAS", "RoleName": "SMS Site System"}])
    assert d.action == "remove"
    assert d.after.present is False


def test_absent_and_missing_is_unchanged():
    assert not decide(state="absent").changed
