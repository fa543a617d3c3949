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


@pytest.mark.parametrize(
    "value",
    [
        "scp01",
        "scp01.",
        ".lab.example",
        "scp 01.lab.example",
        "scp01.lab.example;rm",
        "-bad.lab.example",
        "a" * 64 + ".lab.example",
        "scp01.lab.example\n",
        "`whoami`.x.y",
    ],
)
def test_bad_fqdns(value):
    with pytest.raises(AnsibleActionFail, match="site_system_server must be the fully qualified domain name"):
        _validation.fqdn(value, "site_system_server")


def test_fqdn_is_lower_cased():
    assert _validation.fqdn("SCP01.Lab.Example", "x") == "scp01.lab.example"


@pytest.mark.parametrize("value", ["cm-install", "LAB\\", "\\user", "LAB\\us\\er", 'LAB\\a"b', "user@lab.example"])
def test_bad_accounts(value):
    with pytest.raises(AnsibleActionFail, match=r"installation_account must be an account in DOMAIN\\user form"):
        _validation.account(value, "installation_account")


@pytest.mark.parametrize("value", ["LAB\\cm-install", "lab.example\\cm.install", "CONTOSO\\SCP01$"])
def test_good_accounts(value):
    assert _validation.account(value, "installation_account") == value


# Identifiers: control and invisible formatting characters, spaces at the ends, what Windows refuses (issue 8.4)

CONTROL = ["\r", "\n", "\x00", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\u200b", "\ufeff"]


@pytest.mark.parametrize("char", CONTROL)
@pytest.mark.parametrize(
    "check, option, good",
    [
        (_validation.account, "name", "LAB\\svc-cmproxy"),
        (_validation.principal, "members", "LAB\\CAS$"),
        (_validation.local_group, "group", "Administrators"),
        (_validation.firewall_rule_name, "name", "SCP-Out"),
        (_validation.firewall_display_name, "display_name", "SCP out"),
    ],
)
def test_identifiers_refuse_control_and_invisible_characters(check, option, good, char):
    assert check(good, option) in (good, good.upper())
    for bad in (good[:3] + char + good[3:], good + char):
        with pytest.raises(AnsibleActionFail) as failure:
            check(bad, option)
        message = failure.value.message
        assert message.startswith(option + " ")
        assert f"U+{ord(char):04X}" in message or "space" in message


@pytest.mark.parametrize(
    "check, option, value",
    [
        (_validation.account, "name", " LAB\\svc"),
        (_validation.account, "name", "LAB\\svc "),
        (_validation.local_group, "group", "Administrators "),
        (_validation.firewall_rule_name, "name", " SCP-Out"),
    ],
)
def test_identifiers_refuse_spaces_at_the_ends(check, option, value):
    with pytest.raises(AnsibleActionFail, match=f"^{option} must not start or end with a space"):
        check(value, option)


@pytest.mark.parametrize(
    "value", ["LAB\\a;b", "LAB\\a|b", "LAB\\a*", "LAB\\a,b", "LAB\\user.", "LAB\\...", "LAB\\a=b", "LAB\\" + "x" * 105]
)
def test_account_names_refuse_what_windows_refuses(value):
    with pytest.raises(AnsibleActionFail, match=r"^name must be an account in DOMAIN\\user form"):
        _validation.account(value, "name")


@pytest.mark.parametrize("value", ["LAB\\x$(whoami)", "LAB\\o'brien", "LAB\\K\u212aelvin", "LAB\\\u0130stanbul", "LAB\\a`b"])
def test_account_names_carry_what_windows_allows(value):
    assert _validation.account(value, "name") == value


def test_firewall_display_name_and_description_refuse_the_pipe_and_all():
    for value in ("a|b", "All", "aLL"):
        with pytest.raises(AnsibleActionFail, match=r"^display_name "):
            _validation.firewall_display_name(value)
    with pytest.raises(AnsibleActionFail, match=r"^description must be the rule's description without \|"):
        _validation.firewall_description("x|y")
    assert _validation.firewall_description("two\nlines\twith $(whoami) and `ticks`") is not None
    for value in ("a\x00b", "bell\x07", "rtl\u202e"):
        with pytest.raises(AnsibleActionFail, match=r"^description .* U\+"):
            _validation.firewall_description(value)


def test_firewall_rule_names_are_literal_text():
    for value in ("WINRM*", "a|b", "x$(whoami)", "<<<CMSCP-END>>>", "..\\..\\x", "K\u212a"):
        assert _validation.firewall_rule_name(value) == value


def test_secrets_refuse_only_nul():
    assert _validation.secret("pa$$ 'w\"rd\n\u202e", "password") == "pa$$ 'w\"rd\n\u202e"
    with pytest.raises(AnsibleActionFail, match=r"^password must not contain a NUL"):
        _validation.secret("a\x00b", "password")


def test_ports_refuse_control_characters_before_stripping():
    assert _validation.ports("remote_port", [" 443 ", "5000-5010"])
    with pytest.raises(AnsibleActionFail, match=r"^remote_port must list port numbers"):
        _validation.ports("remote_port", ["443\n"])


def test_component_is_ascii():
    assert _validation.component("sms_dmp_downloader") == "SMS_DMP_DOWNLOADER"
    for value in ("SMS_DMP_DOWNLOAD\u0131R", "SMS_\u017fITE", "SMS DMP"):  # dotless i and long s upper-case to ASCII
        with pytest.raises(AnsibleActionFail, match=r"^component must be an SMS_Executive component"):
            _validation.component(value)


# proxy_server: zone ids (issue 8.5)


@pytest.mark.parametrize(
    "value", ["fe80::1%$(whoami)", "fe80::1%eth0", "fe80::1%", "fe80::1%12;x", "fe80::1%1 2", "10.0.0.1%3", "proxy%12", "fe80::1%\uff11"]
)
def test_proxy_zone_ids_are_interface_indexes(value):
    with pytest.raises(AnsibleActionFail, match=r"^proxy_server must be"):
        _validation.proxy_server(value)


def test_proxy_servers_that_are_accepted():
    assert _validation.proxy_server("FE80::0001%12") == "fe80::1%12"
    assert _validation.proxy_server("Proxy.Lab.Example") == "proxy.lab.example"
    assert _validation.proxy_server("10.0.0.1") == "10.0.0.1"


# Windows paths (issue 8.6)


@pytest.mark.parametrize(
    "value",
    [
        "C:\\Program Files (x86)\\Microsoft Endpoint Manager\\AdminConsole\\bin\\ConfigurationManager.psd1",
        "c:/ConfigMgr/ConfigurationManager.PSD1",
        "\\\\fileserver\\share\\AdminConsole\\bin\\ConfigurationManager.psd1",
        "D:\\Modules\\ConfigurationManager",
        "D:\\Modules\\ConfigurationManager\\",
        "C:\\100% sure\\$weird ~name\\ConfigurationManager.psd1",
    ],
)
def test_module_paths_that_are_sent_as_written(value):
    assert _validation.module_path(value) == value


@pytest.mark.parametrize(
    "value, reason",
    [
        ("~/ConfigurationManager.psd1", "absolute"),
        ("$HOME\\ConfigurationManager.psd1", "absolute"),
        ("%ProgramFiles%\\ConfigurationManager.psd1", "absolute"),
        ("bin\\ConfigurationManager.psd1", "absolute"),
        ("\\ConfigurationManager.psd1", "absolute"),
        ("C:ConfigurationManager.psd1", "absolute"),
        ("\\\\?\\C:\\x\\ConfigurationManager.psd1", "absolute"),
        ("\\\\server\\ConfigurationManager.psd1", "file ending in .psd1"),
        ("\\\\server", "share"),
        ("C:\\x\\..\\ConfigurationManager.psd1", "'..'"),
        ("C:\\x\\.\\ConfigurationManager.psd1", "'..'"),
        ("C:\\x\\\\ConfigurationManager.psd1", "'..'"),
        ("C:\\x\\Configuration*.psd1", "Windows refuses"),
        ("C:\\x\\a:b\\ConfigurationManager.psd1", "Windows refuses"),
        ("C:\\x\\[a]\\ConfigurationManager.psd1", "wildcards"),
        ("C:\\x\\ConfigurationManager.psd1\n", "U+000A"),
        ("C:\\x\u0000\\ConfigurationManager.psd1", "U+0000"),
        ("C:\\x \\ConfigurationManager.psd1", "space or a period"),
        ("C:\\NUL\\ConfigurationManager.psd1", "reserved"),
        ("C:\\x\\ConfigurationManager.ps1", "file ending in .psd1"),
        ("C:\\x\\Modules\\", "folder named ConfigurationManager"),
        ("C:\\", "file ending in .psd1"),
        ("C:\\" + "x\\" * 17000 + "ConfigurationManager.psd1", "at most"),
    ],
)
def test_module_paths_that_are_refused(value, reason):
    with pytest.raises(AnsibleActionFail) as failure:
        _validation.module_path(value)
    assert failure.value.message.startswith("module_path must be")
    assert reason in failure.value.message


def test_windows_path_for_a_literal_path_parameter_takes_brackets():
    assert _validation.windows_path("C:\\Logs\\[old]\\sitecomp.log", "path", extensions=(".log",))
    with pytest.raises(AnsibleActionFail, match="wildcards"):
        _validation.windows_path("C:\\Logs\\[old]\\sitecomp.log", "path", wildcards=True)


# -- found by the hostile-input suite (tests/integration/test_hostile_inputs.py) --------------------------------


@pytest.mark.parametrize("value", ["999999d", "999999w", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_since_out_of_range_is_refused_naming_the_option_not_a_traceback(value):
    with pytest.raises(AnsibleActionFail, match="since must be a point in time between the years 1 and 9999"):
        _validation.since(value)


@pytest.mark.parametrize(
    "value",
    ["EndpointConnectivityChec\u212aWorker.log", "\u0130stanbul.log", "EndpointConnect\u0131vityCheckWorker.log", "\u017fitecomp.log"],
)
def test_log_names_are_ascii_so_that_no_name_folds_into_another_logs_name(value):
    with pytest.raises(AnsibleActionFail, match="name must be the file name of a ConfigMgr log"):
        _validation.log_name(value)


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u202e", "\u200b", "\ufeff"])
def test_drive_paths_refuse_invisible_and_c1_control_characters(char):
    with pytest.raises(AnsibleActionFail, match="tool_path must be a full Windows path on one line"):
        _validation.drive_path(f"C:\\Tools\\a{char}b", "tool_path")


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u202e", "\u200b"])
def test_proxy_usernames_refuse_invisible_characters(char):
    with pytest.raises(AnsibleActionFail, match="proxy_username must be a user name without control"):
        _validation.proxy_username(f"LAB\\a{char}b")
