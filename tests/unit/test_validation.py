"""Bad input is refused with a message that names the option and the fix."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation


@pytest.mark.parametrize("value", ["CA", "CASX", "C-S", "", "C S", "ÄBC", "$()"])
def test_bad_site_codes(value):
    with pytest.raises(AnsibleActionFail, match="site_code must be a ConfigMgr site code of exactly 3"):
        _validation.site_code(value)


def test_site_code_is_upper_cased():
    assert _validation.site_code("ps1") == "PS1"


@pytest.mark.parametrize("value", ["scp01", "scp01.", ".lab.example", "scp 01.lab.example", "scp01.lab.example;rm",
                                   "-bad.lab.example", "a" * 64 + ".lab.example", "scp01.lab.example\n", "`whoami`.x.y"])
def test_bad_fqdns(value):
    with pytest.raises(AnsibleActionFail, match="site_system_server must be the fully qualified domain name"):
        _validation.fqdn(value, "site_system_server")


def test_fqdn_is_lower_cased():
    assert _validation.fqdn("SCP01.Lab.Example", "x") == "scp01.lab.example"


@pytest.mark.parametrize("value", ["cm-install", "LAB\\", "\\user", "LAB\\us\\er", "LAB\\a\"b", "user@lab.example"])
def test_bad_accounts(value):
    with pytest.raises(AnsibleActionFail, match=r"installation_account must be an account in DOMAIN\\user form"):
        _validation.account(value, "installation_account")


@pytest.mark.parametrize("value", ["LAB\\cm-install", "lab.example\\cm.install", "CONTOSO\\SCP01$"])
def test_good_accounts(value):
    assert _validation.account(value, "installation_account") == value
