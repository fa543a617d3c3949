"""The cmdlet catalog and its binder: the project's real plans bind, and every refusal carries
PowerShell's own message (docs/cmdlet-catalog.md)."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import pytest

# The catalog as cmlab imports it: the collection's plugin_utils installed as a package
# (pyproject.toml; docs/cmlab.md "Installing cmlab").
from cmscp_plugin_utils import _catalog as cat

REPO = Path(__file__).resolve().parents[2]
CATALOG_PY = REPO / "plugins" / "plugin_utils" / "_catalog.py"
CATALOG_JSON = REPO / "plugins" / "plugin_utils" / "cmdlet_catalog.json"
LAB_CATALOG_JSON = REPO / "tests" / "cmlab" / "lab_catalog.json"
BUILD_PY = REPO / "tools" / "build_catalog.py"
REFERENCE = Path(__import__("os").environ.get("CMSCP_REFERENCE", REPO.parent / "shared" / "reference"))
if not REFERENCE.is_dir():
    REFERENCE = REPO.parents[1] / "shared" / "reference"  # a git worktree under <root>/wt/<name>


def _load_by_path(name: str, path: Path):
    """tools/ is not a package: load the build script by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


build_catalog = _load_by_path("cmscp_build_catalog_under_test", BUILD_PY)


@pytest.fixture(scope="module")
def catalog():
    """Every cmdlet of the reference (the binder's rules do not depend on which ones plans use)."""
    return cat.Catalog.load(str(LAB_CATALOG_JSON))


def refused(catalog, cmdlet: str, params: dict):
    with pytest.raises(cat.BindingError) as info:
        catalog.bind(cmdlet, params)
    return info.value


# --------------------------------------------------------------------------------------------
# The catalog file


def test_the_lab_catalog_holds_exactly_the_documented_cmdlets_plus_set_location(catalog):
    if not REFERENCE.is_dir():
        pytest.skip(f"reference folder {REFERENCE} absent")
    docs = REFERENCE / "cmdlet-docs"
    expected = {p.stem for p in docs.glob("*.md")} - {
        "overview",
        "ConfigurationManager",
    }
    expected |= {p.stem for p in (docs / "windows").glob("*.md")}
    expected |= {p.stem for p in (Path(__file__).resolve().parents[2] / "tools" / "catalog_supplement").glob("*.md")}
    assert set(catalog.names()) == expected


def test_the_plan_catalog_holds_exactly_the_plan_cmdlets():
    assert cat.Catalog.load().names() == sorted(build_catalog.PLAN_CMDLETS)


def test_catalog_is_loaded_once_and_shared():
    assert cat.Catalog.load() is cat.Catalog.load()
    assert cat.Catalog.load(str(CATALOG_JSON)) is cat.Catalog.load()


def test_modules_and_configmgr_flag(catalog):
    assert catalog.get("Get-CMSite").is_configmgr
    assert catalog.get("Get-CMSite").module == "ConfigurationManager"
    assert catalog.get("New-NetFirewallRule").module == "NetSecurity"
    assert catalog.get("Add-LocalGroupMember").module == "Microsoft.PowerShell.LocalAccounts"
    assert catalog.get("Get-CimInstance").module == "CimCmdlets"
    location = catalog.get("set-location")
    assert location.name == "Set-Location"
    assert location.module == "Microsoft.PowerShell.Management"
    assert not location.is_configmgr
    assert "Set-Location.md" in location.source


def test_current_docs_win_over_5_1902(catalog):
    account = {p.name: p for p in catalog.get("Set-CMSiteSystemServer").parameters}["ProxyAccessAccount"]
    assert account.type == "IResultObject"  # 5.1902 had String
    mode = {p.name: p for p in catalog.get("Add-CMServiceConnectionPoint").parameters}["Mode"]
    assert mode.accepted_values == ("Online", "Offline")
    assert mode.type == "ServiceConnectionPointMode"


def test_validation_attributes_come_from_5_1902(catalog):
    params = {p.name: p for p in catalog.get("New-CMSiteSystemServer").parameters}
    assert params["ProxyServerPort"].range == (1, 65535)
    assert params["SiteCode"].not_null_or_empty
    assert params["ProxyAccessAccount"].ps_type_name == "IResultObject#SMS_SCI_Reserved"


def test_netsecurity_keeps_only_what_2019_and_2022_both_accept(catalog):
    new_rule = {p.name for p in catalog.get("New-NetFirewallRule").parameters}
    assert "RemoteDynamicKeywordAddresses" not in new_rule  # 2022 only
    assert {
        "DisplayName",
        "Direction",
        "LocalPort",
        "Protocol",
        "Action",
        "Profile",
    } <= new_rule
    get_rule = {p.name for p in catalog.get("Get-NetFirewallRule").parameters}
    assert "GPOSession" not in get_rule  # 2019 docs only
    assert "2019:" in catalog.get("Set-NetFirewallRule").source


def test_should_process_and_common_parameters_are_not_repeated_per_cmdlet():
    raw = json.loads(CATALOG_JSON.read_text(encoding="utf-8"))
    repeated = {"WhatIf", "Confirm", "Verbose", "ErrorAction", "OutVariable"}
    for name, entry in raw["cmdlets"].items():
        assert not repeated & {p["name"] for p in entry["parameters"]}, name
    assert raw["cmdlets"]["Set-CMServiceConnectionPoint"]["supports_should_process"] is True
    assert raw["cmdlets"]["Get-CMAccount"]["supports_should_process"] is False
    assert json.loads(LAB_CATALOG_JSON.read_text(encoding="utf-8"))["sources"]["supplement"]["Set-Location"].startswith(
        "MicrosoftDocs/PowerShell-Docs@"
    )


def test_regenerating_from_the_reference_reproduces_the_committed_catalogs():
    if not REFERENCE.is_dir():
        pytest.skip(f"reference folder {REFERENCE} absent: cannot regenerate the catalog")
    assert build_catalog.render(build_catalog.build(REFERENCE)) == CATALOG_JSON.read_text(encoding="utf-8")
    assert build_catalog.render(build_catalog.build(REFERENCE, None)) == LAB_CATALOG_JSON.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The reader of the reference pages


PAGE = """---
Module Name: Test.Module
title: Test-Thing
---

# Test-Thing

## SYNTAX

### ByName (Default)

```
Test-Thing [-Name] <String> [-Mode <String>] [-WhatIf] [-Confirm] [<CommonParameters>]
```

### ByValue

```
Test-Thing -InputObject <Object> -Mode <String> [-WhatIf] [-Confirm] [<CommonParameters>]
```

## PARAMETERS

### -InputObject

```yaml
Type: System.Object
Parameter Sets: ByValue
Aliases: Thing

Required: True
Position: Named
Default value: None
Accept pipeline input: True (ByValue)
Accept wildcard characters: False
```

### -Mode

Optional by name, required by value: two yaml blocks.

```yaml
Type: String
Parameter Sets: ByName
Aliases:
Accepted values: Fast, Slow

Required: False
Position: Named
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

```yaml
Type: String
Parameter Sets: ByValue
Aliases:
Accepted values: Fast, Slow

Required: True
Position: Named
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

### -Name

```yaml
Type: String
Parameter Sets: ByName
Aliases:

Required: True
Position: 0
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

### -Confirm

```yaml
Type: SwitchParameter
Parameter Sets: (All)
Aliases: cf

Required: False
Position: Named
Default value: False
Accept pipeline input: False
Accept wildcard characters: False
```

### -WhatIf

```yaml
Type: SwitchParameter
Parameter Sets: (All)
Aliases: wi

Required: False
Position: Named
Default value: False
Accept pipeline input: False
Accept wildcard characters: False
```

### CommonParameters

Text.
"""


def test_page_reader_merges_per_set_yaml_blocks(tmp_path):
    path = tmp_path / "Test-Thing.md"
    path.write_text(PAGE, encoding="utf-8")
    entry = build_catalog._finish(build_catalog.parse_page(path), "test", [])
    assert entry["default_set"] == "ByName"
    assert entry["sets"] == ["ByName", "ByValue"]
    assert entry["supports_should_process"] is True
    params = {p["name"]: p for p in entry["parameters"]}
    assert set(params) == {"InputObject", "Mode", "Name"}
    assert params["Mode"]["sets"] == {
        "ByName": {"mandatory": False},
        "ByValue": {"mandatory": True},
    }
    assert params["Mode"]["accepted_values"] == ["Fast", "Slow"]
    assert params["Name"]["sets"] == {"ByName": {"mandatory": True, "position": 0}}
    assert params["InputObject"]["sets"]["ByValue"]["pipeline"] == ["ByValue"]
    assert params["InputObject"]["type"] == "Object"
    assert entry["notes"] == []


def test_page_reader_per_set_required_line():
    sets = ["A", "B", "C"]
    assert build_catalog._per_set_values("True (A, B), False (C)", sets) == {
        "A": "True",
        "B": "True",
        "C": "False",
    }
    assert build_catalog._per_set_values("Named", sets) == {
        "A": "Named",
        "B": "Named",
        "C": "Named",
    }


def test_syntax_reader_tells_positional_mandatory_from_optional():
    line = "Cmd [-A <String>] [-B] <String> -C <Int32> [[-D] <String>] [-E] [<CommonParameters>]"
    assert build_catalog._syntax_parameters(line) == {
        "A": False,
        "B": True,
        "C": True,
        "D": False,
        "E": False,
    }


# --------------------------------------------------------------------------------------------
# The project's real plans bind


@pytest.mark.parametrize("cmdlet", ["Get-CMServiceConnectionPoint", "Set-CMServiceConnectionPoint"])
def test_scp_by_name(catalog, cmdlet):
    b = catalog.bind(cmdlet, {"SiteSystemServerName": "cm01.lab.example", "SiteCode": "CAS"})
    assert b.parameter_set in ("SearchByName", "ByName")
    assert b.params == {"SiteSystemServerName": "cm01.lab.example", "SiteCode": "CAS"}


def test_add_scp_normalises_mode_case(catalog):
    b = catalog.bind(
        "add-cmserviceconnectionpoint",
        {"siteSystemServerName": "cm01", "sitecode": "CAS", "mode": "online"},
    )
    assert b.cmdlet == "Add-CMServiceConnectionPoint"
    assert b.parameter_set == "ByName"
    assert b.params == {
        "SiteSystemServerName": "cm01",
        "SiteCode": "CAS",
        "Mode": "Online",
    }


def test_set_scp_mode_by_reference(catalog):
    b = catalog.bind(
        "Set-CMServiceConnectionPoint",
        {"InputObject": {"$ref": "scp"}, "Mode": "Offline"},
    )
    assert b.parameter_set == "ByValue"


def test_remove_scp_by_name_and_alias(catalog):
    b = catalog.bind(
        "Remove-CMServiceConnectionPoint",
        {"Name": "cm01", "SiteCode": "CAS", "Force": True},
    )
    assert b.parameter_set == "SearchByNameMandatory"
    assert b.params == {
        "SiteSystemServerName": "cm01",
        "SiteCode": "CAS",
        "Force": True,
    }
    b = catalog.bind(
        "Remove-CMServiceConnectionPoint",
        {"ReportingServicePoint": {"$ref": "scp"}, "Confirm": False},
    )
    assert b.parameter_set == "SearchByValueMandatory"


def test_get_scp_all_sites_uses_the_default_set(catalog):
    b = catalog.bind("Get-CMServiceConnectionPoint", {"AllSite": True})
    assert b.parameter_set == "SearchByName"


def test_get_site_and_site_role(catalog):
    assert catalog.bind("Get-CMSite", {}).parameter_set == "SearchByNameOrSiteCode"
    assert catalog.bind("Get-CMSite", {"SiteCode": "CAS"}).params == {"SiteCode": "CAS"}
    b = catalog.bind("Get-CMSiteRole", {"RoleName": "SMS Dmp Connector", "AllSite": True})
    assert b.parameter_set == "SearchByName"
    assert b.params == {"RoleName": "SMS Dmp Connector", "AllSite": True}


def test_new_site_system_server_with_site_server_account(catalog):
    b = catalog.bind(
        "New-CMSiteSystemServer",
        {
            "SiteSystemServerName": "cm02.lab.example",
            "SiteCode": "CAS",
            "UseSiteServerAccount": True,
        },
    )
    assert b.params["UseSiteServerAccount"] is True


def test_new_site_system_server_with_account_and_proxy(catalog):
    b = catalog.bind(
        "New-CMSiteSystemServer",
        {
            "SiteSystemServerName": "cm02.lab.example",
            "SiteCode": "CAS",
            "AccountName": "LAB\\cminstall",
            "EnableProxy": True,
            "ProxyServerName": "proxy.lab.example",
            "ProxyServerPort": "8080",
            "ProxyAccessAccount": {"$ref": "proxy_account"},
            "FdmOperation": 0,
        },
    )
    assert b.params["ProxyServerPort"] == 8080
    assert b.params["FdmOperation"] is False
    assert b.params["ProxyAccessAccount"] == {"$ref": "proxy_account"}


def test_set_site_system_server_by_name_and_by_value(catalog):
    b = catalog.bind(
        "Set-CMSiteSystemServer",
        {
            "SiteSystemServerName": "cm02",
            "SiteCode": "CAS",
            "EnableProxy": False,
            "PassThru": True,
        },
    )
    assert b.parameter_set == "SearchByNameMandatory"
    b = catalog.bind(
        "Set-CMSiteSystemServer",
        {
            "InputObject": {"$ref": "sys"},
            "ProxyAccessAccount": {"$ref": "acct"},
            "ProxyServerPort": 3128,
        },
    )
    assert b.parameter_set == "SearchByValueMandatory"


def test_get_and_remove_site_system_server(catalog):
    b = catalog.bind("Get-CMSiteSystemServer", {"SiteSystemServerName": "cm02", "SiteCode": "CAS"})
    assert b.parameter_set == "SearchByName"
    b = catalog.bind(
        "Remove-CMSiteSystemServer",
        {"SiteSystemServerName": "cm02", "SiteCode": "CAS", "Force": True},
    )
    assert b.parameter_set == "SearchByName"


def test_accounts_with_secrets(catalog):
    b = catalog.bind("Get-CMAccount", {"UserName": "LAB\\proxy", "SiteCode": "CAS"})
    assert b.params == {"UserName": "LAB\\proxy", "SiteCode": "CAS"}
    b = catalog.bind(
        "New-CMAccount",
        {
            "UserName": "LAB\\proxy",
            "Password": {"$secret": "proxy_pw"},
            "SiteCode": "CAS",
        },
    )
    assert b.params["Password"] == {"$secret": "proxy_pw"}


def test_local_group_members(catalog):
    b = catalog.bind("Get-LocalGroupMember", {"Name": "Administrators"})
    assert b.parameter_set == "Default"
    b = catalog.bind("Add-LocalGroupMember", {"Name": "Administrators", "Member": "LAB\\CM01$"})
    assert b.parameter_set == "Default"
    assert b.params["Member"] == ["LAB\\CM01$"]  # LocalPrincipal[]: one value becomes a list
    b = catalog.bind(
        "Remove-LocalGroupMember",
        {"Group": {"$ref": "admins"}, "Member": ["LAB\\CM01$", "LAB\\x"]},
    )
    assert b.parameter_set == "Group"


def test_firewall_rules(catalog):
    b = catalog.bind("Get-NetFirewallRule", {"Name": "CMSCP-SQL"})
    assert b.parameter_set == "ByName"
    assert b.params == {"Name": ["CMSCP-SQL"]}
    b = catalog.bind(
        "New-NetFirewallRule",
        {
            "Name": "CMSCP-SQL",
            "DisplayName": "ConfigMgr SQL",
            "Direction": "inbound",
            "Protocol": "TCP",
            "LocalPort": ["1433", 4022],
            "Action": "allow",
            "Profile": "Domain",
            "Enabled": "true",
        },
    )
    assert b.params["Direction"] == "Inbound"
    assert b.params["Action"] == "Allow"
    assert b.params["Enabled"] == "True"
    assert b.params["LocalPort"] == ["1433", "4022"]
    b = catalog.bind(
        "Set-NetFirewallRule",
        {"Name": "CMSCP-SQL", "Enabled": "False", "LocalPort": "1433"},
    )
    assert b.parameter_set == "ByName"
    b = catalog.bind("Remove-NetFirewallRule", {"Name": "CMSCP-SQL"})
    assert b.parameter_set == "ByName"


def test_registry_properties(catalog):
    key = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\DP"
    b = catalog.bind("Get-ItemProperty", {"Path": key, "Name": "Mode"})
    assert b.parameter_set == "Path"
    assert b.params == {"Path": [key], "Name": ["Mode"]}
    b = catalog.bind("Set-ItemProperty", {"Path": key, "Name": "Mode", "Value": 1, "Type": "DWord"})
    assert b.parameter_set == "propertyValuePathSet"
    b = catalog.bind("Set-ItemProperty", {"LiteralPath": key, "Name": "Mode", "Value": ""})
    assert b.parameter_set == "propertyValueLiteralPathSet"


def test_services(catalog):
    assert catalog.bind("Get-Service", {"Name": "SMS_EXECUTIVE"}).parameter_set == "Default"
    b = catalog.bind("Restart-Service", {"Name": "SMS_EXECUTIVE", "Force": True})
    assert b.parameter_set == "Default"
    assert catalog.bind("Restart-Service", {"InputObject": {"$ref": "svc"}}).parameter_set == "InputObject"


def test_site_status_messages(catalog):
    b = catalog.bind(
        "Get-CMSiteStatusMessage",
        {
            "SiteCode": "CAS",
            "MessageId": [9500, "9501"],
            "Severity": ["error", "Warning"],
            "StartDateTime": "2026-01-28T10:15:00.0000000Z",
        },
    )
    assert b.params == {
        "SiteCode": ["CAS"],
        "MessageId": [9500, 9501],
        "Severity": ["Error", "Warning"],
        "StartDateTime": "2026-01-28T10:15:00.0000000Z",
    }


def test_set_location_enters_the_site_drive(catalog):
    assert catalog.bind("Set-Location", {"Path": "CAS:"}).parameter_set == "Path"
    assert catalog.bind("Set-Location", {"LiteralPath": "CAS:\\"}).parameter_set == "LiteralPath"


def test_common_and_should_process_parameters(catalog):
    b = catalog.bind(
        "Set-CMServiceConnectionPoint",
        {
            "Name": "cm01",
            "Mode": "Online",
            "WarningAction": "silentlycontinue",
            "WhatIf": True,
            "Verbose": False,
            "ob": 10,
        },
    )
    assert b.params["WarningAction"] == "SilentlyContinue"
    assert b.params["WhatIf"] is True
    assert b.params["OutBuffer"] == 10


@pytest.mark.parametrize(
    "name", ["ErrorAction", "ea", "OutVariable", "ov", "ErrorVariable", "WarningVariable", "InformationVariable", "PipelineVariable", "pv"]
)
def test_a_plan_cannot_set_the_engines_error_action_or_variables(name):
    # Issue 8.17: -OutVariable result would overwrite the engine's own result document.
    e = refused(cat.Catalog.load(), "Get-Service", {"Name": "WinRM", name: "result"})
    assert e.fqid == "CommonParameterNotAllowed"
    assert "not allowed in a plan" in e.message


@pytest.mark.parametrize(
    "cmdlet, params",
    [
        ("Get-Service", {"Name": "WinRM", "ComputerName": "dc01"}),
        ("Get-Service", {"Name": "WinRM", "Cn": "dc01"}),  # its alias
        ("Get-Service", {"Name": "WinRM", "ComputerN": "dc01"}),  # a prefix: PowerShell binds -ComputerName
        ("Get-CimInstance", {"ClassName": "Win32_Service", "ComputerName": "dc01"}),
        ("Get-CimInstance", {"ClassName": "Win32_Service", "CimSession": {"$ref": "s"}}),
        ("Get-NetFirewallRule", {"Name": "x", "PolicyStore": "lab.example\\Default Domain Policy"}),
        ("Set-NetFirewallRule", {"Name": "x", "Enabled": "False", "AsJob": True}),
    ],
)
def test_parameters_that_reach_another_machine_are_refused(cmdlet, params):
    # Issue 8.17: a plan's step acts on its own host; the engine adds its own -CimSession.
    for catalog in (cat.Catalog.load(), cat.Catalog.load(str(LAB_CATALOG_JSON))):
        e = refused(catalog, cmdlet, params)
        assert e.fqid == "ParameterNotAllowed" and "not allowed in a plan" in e.message


def test_a_provider_value_only_for_configmgr_and_cim_cmdlets():
    catalog = cat.Catalog.load()
    namespace = {"$provider": "namespace"}
    catalog.bind("Get-CimInstance", {"Namespace": namespace, "ClassName": "SMS_Site"})
    catalog.bind("Get-CMAccount", {"SiteCode": {"$provider": "site_code"}})
    assert refused(catalog, "Get-Service", {"Name": {"$provider": "server"}}).fqid == "ProviderValueNotAllowed"
    assert catalog.provider_kind("Get-CimInstance", {"Namespace": namespace}) == "cim"
    assert catalog.provider_kind("Get-CimInstance", {"Namespace": "root\\cimv2"}) is None
    assert catalog.provider_kind("Get-CMAccount", {}) == "cmsite"


def test_leading_dash_is_allowed_as_in_splatting(catalog):
    assert catalog.bind("Get-CMSite", {"-SiteCode": "CAS"}).params == {"SiteCode": "CAS"}


def test_unique_prefix_and_cmdlet_parameters_beat_common_ones(catalog):
    assert catalog.bind("Get-CMSiteRole", {"Role": "SMS Dmp Connector"}).params == {"RoleName": "SMS Dmp Connector"}
    # -D matches -DisableWildcardHandling and the common -Debug: the cmdlet's own wins.
    assert catalog.bind("Get-CMSite", {"D": True}).params == {"DisableWildcardHandling": True}


# --------------------------------------------------------------------------------------------
# Every refusal, with PowerShell's words


def test_unknown_cmdlet(catalog):
    e = refused(catalog, "Get-CMNothing", {})
    assert (
        str(e)
        == e.message
        == (
            "The term 'Get-CMNothing' is not recognized as the name of a cmdlet, function, script file, or operable "
            "program. Check the spelling of the name, or if a path was included, verify that the path is correct and "
            "try again."
        )
    )
    assert (e.fqid, e.category, e.cmdlet, e.parameter) == (
        "CommandNotFoundException",
        "ObjectNotFound",
        "Get-CMNothing",
        None,
    )
    with pytest.raises(cat.BindingError):
        catalog.get("Invoke-Expression")  # not allow-listed


def test_unknown_parameter(catalog):
    e = refused(catalog, "Get-CMSite", {"Foo": 1})
    assert e.message == "A parameter cannot be found that matches parameter name 'Foo'."
    assert (e.fqid, e.category, e.parameter) == (
        "NamedParameterNotFound",
        "InvalidArgument",
        "Foo",
    )


def test_whatif_is_unknown_where_should_process_is_not_supported(catalog):
    e = refused(catalog, "Get-CMSite", {"WhatIf": True})
    assert e.fqid == "NamedParameterNotFound"


def test_ambiguous_prefix(catalog):
    e = refused(catalog, "New-CMSiteSystemServer", {"S": "cm02", "UseSiteServerAccount": True})
    assert e.message == (
        "Parameter cannot be processed because the parameter name 'S' is ambiguous. "
        "Possible matches include: -SiteCode -SiteSystemServerName."
    )
    assert (e.fqid, e.category) == ("AmbiguousParameter", "InvalidArgument")


def test_aliases_take_part_in_prefix_matching(catalog):
    # Add-CMServiceConnectionPoint's -InputObject has the alias SiteServer.
    e = refused(catalog, "Add-CMServiceConnectionPoint", {"Site": "x", "Mode": "Online"})
    assert e.message.endswith("Possible matches include: -SiteCode -SiteSystemServerName -InputObject.")


def test_parameter_given_twice_by_name_and_alias(catalog):
    e = refused(
        catalog,
        "Get-CMSiteSystemServer",
        {"SiteSystemServerName": "a", "ServerName": "b"},
    )
    assert e.message == (
        "Cannot bind parameter because parameter 'ServerName' is specified more than once. To provide multiple "
        'values to parameters that can accept multiple values, use the array syntax. For example, "-parameter '
        'value1,value2,value3".'
    )
    assert (e.fqid, e.parameter) == ("ParameterAlreadyBound", "SiteSystemServerName")


def test_missing_mandatory(catalog):
    e = refused(catalog, "Add-CMServiceConnectionPoint", {"SiteSystemServerName": "cm01"})
    assert e.message == "Cannot process command because of one or more missing mandatory parameters: Mode."
    assert (e.fqid, e.category) == ("MissingMandatoryParameter", "InvalidArgument")
    e = refused(catalog, "New-CMAccount", {"SiteCode": "CAS"})
    assert e.message == "Cannot process command because of one or more missing mandatory parameters: Password UserName."


def test_default_set_is_chosen_then_its_mandatory_parameters_are_missing(catalog):
    # Only -Mode (in both sets): the default set ByValue wins and needs -InputObject.
    e = refused(catalog, "Add-CMServiceConnectionPoint", {"Mode": "Online"})
    assert e.message == "Cannot process command because of one or more missing mandatory parameters: InputObject."


def test_mutually_exclusive_sets(catalog):
    e = refused(
        catalog,
        "Set-CMSiteSystemServer",
        {"InputObject": {"$ref": "sys"}, "SiteSystemServerName": "cm02"},
    )
    assert e.message == (
        "Parameter set cannot be resolved using the specified named parameters. One or more parameters issued "
        "cannot be used together or an insufficient number of parameters were provided."
    )
    assert (e.fqid, e.category) == ("AmbiguousParameterSet", "InvalidArgument")


def test_ambiguous_set_without_default(catalog):
    # Set-NetFirewallRule has no default set: -Enabled alone fits every set, completes none.
    e = refused(catalog, "Set-NetFirewallRule", {"Enabled": "True"})
    assert e.fqid == "AmbiguousParameterSet"


def test_unique_complete_set_is_chosen_without_default(catalog):
    b = catalog.bind("Set-NetFirewallRule", {"DisplayName": "ConfigMgr SQL", "Enabled": "True"})
    assert b.parameter_set == "ByDisplayName"


def test_validate_set(catalog):
    e = refused(
        catalog,
        "Set-CMServiceConnectionPoint",
        {"SiteSystemServerName": "cm01", "Mode": "Foo"},
    )
    assert e.message == (
        "Cannot validate argument on parameter 'Mode'. The argument \"Foo\" does not belong to the set "
        '"Online,Offline" specified by the ValidateSet attribute. Supply an argument that is in the set and then '
        "try the command again."
    )
    assert (e.fqid, e.category, e.parameter) == (
        "ParameterArgumentValidationError",
        "InvalidData",
        "Mode",
    )


def test_validate_set_on_each_element(catalog):
    e = refused(catalog, "Get-CMSiteStatusMessage", {"Severity": ["Error", "Fatal"]})
    assert 'The argument "Fatal" does not belong to the set "All,Error,Information,Warning"' in e.message


def test_validate_set_on_common_parameters(catalog):
    e = refused(catalog, "Get-CMSite", {"WarningAction": "Explode"})
    assert e.parameter == "WarningAction"
    assert e.fqid == "ParameterArgumentValidationError"


def test_validate_range(catalog):
    base = {"SiteSystemServerName": "cm02", "UseSiteServerAccount": True}
    e = refused(catalog, "New-CMSiteSystemServer", dict(base, ProxyServerPort=70000))
    assert e.message == (
        "Cannot validate argument on parameter 'ProxyServerPort'. The 70000 argument is greater than the maximum "
        "allowed range of 65535. Supply an argument that is less than or equal to 65535 and then try the command "
        "again."
    )
    assert e.fqid == "ParameterArgumentValidationError"
    e = refused(catalog, "New-CMSiteSystemServer", dict(base, ProxyServerPort=0))
    assert e.message == (
        "Cannot validate argument on parameter 'ProxyServerPort'. The 0 argument is less than the minimum allowed "
        "range of 1. Supply an argument that is greater than or equal to 1 and then try the command again."
    )


def test_integer_outside_its_type(catalog):
    e = refused(
        catalog,
        "New-CMSiteSystemServer",
        {"SiteSystemServerName": "cm02", "ProxyServerPort": -1},
    )
    assert e.message == (
        'Cannot bind parameter \'ProxyServerPort\'. Cannot convert value "-1" to type "System.UInt32". '
        'Error: "Value was either too large or too small for a UInt32."'
    )
    assert (e.fqid, e.category) == ("CannotConvertArgumentNoMessage", "InvalidArgument")


@pytest.mark.parametrize("value", ["eighty", 80.5, True])
def test_integer_refuses_non_integers(catalog, value):
    e = refused(
        catalog,
        "New-CMSiteSystemServer",
        {"SiteSystemServerName": "cm02", "ProxyServerPort": value},
    )
    assert e.message.endswith('Error: "Input string was not in a correct format."')


@pytest.mark.parametrize("value", ["", None])
def test_not_null_or_empty(catalog, value):
    e = refused(catalog, "Get-CMServiceConnectionPoint", {"SiteCode": value})
    assert e.message == (
        "Cannot validate argument on parameter 'SiteCode'. The argument is null or empty. Provide an argument "
        "that is not null or empty, and then try the command again."
    )
    assert e.fqid == "ParameterArgumentValidationError"


def test_not_null_or_empty_on_collections(catalog):
    e = refused(catalog, "Get-CMSiteStatusMessage", {"SiteCode": ["CAS", ""]})
    assert "an element of the argument collection contains a null value" in e.message


@pytest.mark.parametrize(
    ("value", "problem", "fqid"),
    [
        (None, "it is null", "ParameterArgumentValidationErrorNullNotAllowed"),
        (
            "",
            "it is an empty string",
            "ParameterArgumentValidationErrorEmptyStringNotAllowed",
        ),
    ],
)
def test_mandatory_parameters_refuse_null_and_empty(catalog, value, problem, fqid):
    e = refused(
        catalog,
        "Add-CMServiceConnectionPoint",
        {"SiteSystemServerName": value, "Mode": "Online"},
    )
    assert e.message == f"Cannot bind argument to parameter 'SiteSystemServerName' because {problem}."
    assert (e.fqid, e.category) == (fqid, "InvalidData")


def test_mandatory_array_refuses_empty_array(catalog):
    e = refused(catalog, "Add-LocalGroupMember", {"Name": "Administrators", "Member": []})
    assert e.message == "Cannot bind argument to parameter 'Member' because it is an empty array."


@pytest.mark.parametrize("value", ["true", "yes", [True], None])
def test_boolean_accepts_only_booleans_and_numbers(catalog, value):
    e = refused(
        catalog,
        "Set-CMSiteSystemServer",
        {"SiteSystemServerName": "cm02", "EnableProxy": value},
    )
    shown = "System.Object[]" if isinstance(value, list) else "" if value is None else "System.String"
    assert e.message == (
        f"Cannot process argument transformation on parameter 'EnableProxy'. Cannot convert value \"{shown}\" to "
        'type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, '
        "1 or 0."
    )
    assert (e.fqid, e.category) == (
        "ParameterArgumentTransformationError",
        "InvalidData",
    )


def test_switch_refuses_strings(catalog):
    e = refused(catalog, "Get-CMSiteRole", {"AllSite": "yes"})
    assert 'to type "System.Management.Automation.SwitchParameter"' in e.message
    assert e.fqid == "ParameterArgumentTransformationError"


def test_string_refuses_lists(catalog):
    e = refused(catalog, "Get-CMSite", {"SiteCode": ["CAS", "PS1"]})
    assert e.message == (
        "Cannot bind parameter 'SiteCode'. Cannot convert 'System.Object[]' to the type 'System.String' required "
        "by parameter 'SiteCode'. Specified method is not supported."
    )
    assert e.fqid == "CannotConvertArgument"


def test_string_takes_scalars_as_powershell_prints_them(catalog):
    assert catalog.bind("Get-CMSite", {"SiteCode": 123}).params == {"SiteCode": "123"}
    assert catalog.bind("Get-CMSite", {"Name": True}).params == {"Name": "True"}


@pytest.mark.parametrize(
    "value",
    [{"SiteCode": "CAS"}, {"$ref": "a", "x": 1}, {"$ref": "bad id"}, {"$other": "x"}],
)
def test_objects_other_than_ref_and_secret_are_refused(catalog, value):
    e = refused(catalog, "Get-CMSite", {"SiteCode": value})
    assert e.fqid == "InvalidPlanValue"
    e = refused(catalog, "Set-ItemProperty", {"Path": "HKLM:\\x", "Name": "n", "Value": value})
    assert e.fqid == "InvalidPlanValue"


def test_ref_only_fills_object_parameters(catalog):
    e = refused(catalog, "Get-CMSite", {"SiteCode": {"$ref": "site"}})
    assert e.fqid == "CannotConvertArgumentNoMessage"
    assert "step 'site'" in e.message


def test_result_object_needs_a_ref(catalog):
    e = refused(catalog, "Set-CMSiteSystemServer", {"InputObject": "cm02"})
    assert e.message == (
        'Cannot bind parameter \'InputObject\'. Cannot convert the "cm02" value of type "System.String" to type '
        '"Microsoft.ConfigurationManagement.ManagementProvider.IResultObject".'
    )


def test_object_accepts_anything_json(catalog):
    for value in (1, "x", [1, "a"], None, {"$ref": "prev"}):
        b = catalog.bind("Set-ItemProperty", {"Path": "HKLM:\\x", "Name": "n", "Value": value})
        assert b.params["Value"] == value


def test_secure_string_accepts_only_a_secret(catalog):
    e = refused(catalog, "New-CMAccount", {"UserName": "LAB\\u", "Password": "plain-text"})
    assert e.fqid == "SecureStringRequiresSecret"
    assert "plain-text" not in e.message
    e = refused(catalog, "New-CMAccount", {"UserName": "LAB\\u", "Password": {"$ref": "pw"}})
    assert e.fqid == "SecureStringRequiresSecret"


def test_secret_only_fills_secure_strings(catalog):
    e = refused(catalog, "Get-CMAccount", {"UserName": {"$secret": "pw"}})
    assert e.message == (
        "Cannot bind parameter 'UserName'. Cannot convert the \"System.Security.SecureString\" value of type "
        '"System.Security.SecureString" to type "System.String".'
    )


def test_datetime_accepts_iso_8601_only(catalog):
    for ok in (
        "2026-01-28",
        "2026-01-28T10:15",
        "2026-01-28T10:15:00+01:00",
        "2026-01-28 10:15:00.1234567Z",
    ):
        catalog.bind("Get-CMSiteStatusMessage", {"StartDateTime": ok})
    for bad in ("yesterday", "2026-02-30T00:00:00", 1769595300):
        e = refused(catalog, "Get-CMSiteStatusMessage", {"StartDateTime": bad})
        assert e.message.endswith('to type "System.DateTime". Error: "String was not recognized as a valid DateTime."')


def test_pscredential_comes_only_from_a_plan_credential(catalog):
    drive = {"Name": "CAS", "PSProvider": "CMSite", "Root": "cm01"}
    for value in ("x", {"$secret": "pw"}, {"user": "LAB\\x", "password": "y"}, ["LAB\\x", "y"]):
        e = refused(catalog, "New-PSDrive", {**drive, "Credential": value})
        assert "PSCredential" in e.message or "plan value object" in e.message, e.message
    e = refused(catalog, "New-PSDrive", {**drive, "Credential": "x"})
    assert e.fqid == "PSCredentialRequiresCredential"
    credential = {"$credential": "proxy_password", "username": "LAB\\svc-cmproxy"}
    binding = catalog.bind("New-PSDrive", {**drive, "Credential": credential})
    assert binding.params["Credential"] == credential


def test_a_plan_credential_fills_nothing_but_a_pscredential(catalog):
    credential = {"$credential": "proxy_password", "username": "LAB\\svc-cmproxy"}
    e = refused(catalog, "New-PSDrive", {"Name": credential, "PSProvider": "CMSite", "Root": "cm01"})
    assert 'to type "System.String"' in e.message and e.fqid.startswith("CannotConvertArgumentNoMessage")
    # An empty user name, another member or a bad secret name is no credential: refused as any other object.
    for bad in (
        {"$credential": "pw", "username": ""},
        {"$credential": "p w", "username": "u"},
        {"$credential": "pw", "username": "u", "x": 1},
        {"$credential": "pw", "username": "a\nb"},
    ):
        e = refused(catalog, "New-PSDrive", {"Name": "CAS", "PSProvider": "CMSite", "Root": "cm01", "Credential": bad})
        assert "plan value object" in e.message


def test_parameters_must_be_an_object(catalog):
    with pytest.raises(cat.BindingError):
        catalog.bind("Get-CMSite", ["SiteCode", "CAS"])


# --------------------------------------------------------------------------------------------
# The module itself: loadable by cmlab by path and by Ansible on a 3.9 controller


@pytest.mark.parametrize("name", ["_catalog.py", "_protocol.py"])
def test_contract_modules_are_stdlib_only_and_python_3_9_syntax(name):
    # cmlab imports them as the package cmscp_plugin_utils, without Ansible.
    source = (REPO / "plugins" / "plugin_utils" / name).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 9))
    stdlib = set(sys.stdlib_module_names)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                assert node.module is None and [a.name for a in node.names] == ["_protocol"]
            else:
                assert node.module.split(".")[0] in stdlib, node.module
        if isinstance(node, ast.Import):
            assert all(alias.name.split(".")[0] in stdlib for alias in node.names)
    assert "FOR INTERNAL COLLECTION USE ONLY" in source
    assert "from __future__ import annotations" in source


def test_flags_enum_takes_several_names_and_normalises_them():
    catalog = cat.Catalog.load(str(LAB_CATALOG_JSON))
    bound = catalog.bind("Set-NetFirewallRule", {"Name": "x", "Profile": ["domain", "Private"]})
    assert bound.params["Profile"] == "Domain,Private"
    with pytest.raises(cat.BindingError, match='The argument "Nope" does not belong to the set'):
        catalog.bind("Set-NetFirewallRule", {"Name": "x", "Profile": "Domain,Nope"})
    # A non-flags enum still refuses a list, as PowerShell does.
    with pytest.raises(cat.BindingError, match=r"Cannot convert 'System.Object\[\]'"):
        catalog.bind("Set-NetFirewallRule", {"Name": "x", "Direction": ["Inbound", "Outbound"]})


def test_a_property_of_a_step_output_binds_where_data_would():
    catalog = cat.Catalog.load(str(LAB_CATALOG_JSON))
    bound = catalog.bind("Get-Content", {"Path": {"$ref": "trace", "property": "TraceFilename"}, "Tail": 50})
    assert bound.params["Path"] == {"$ref": "trace", "property": "TraceFilename"}
    with pytest.raises(cat.BindingError, match="can only come from a plan secret"):
        catalog.bind("New-CMAccount", {"UserName": "LAB\\x", "Password": {"$ref": "s", "property": "p"}})
    with pytest.raises(cat.BindingError, match="plan value object must be"):
        catalog.bind("Get-Content", {"Path": {"$ref": "trace", "property": "a b"}})
