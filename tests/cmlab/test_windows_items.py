"""Registry and file-system items through the cmdlets: reads, writes, value kinds, the real errors."""

from __future__ import annotations

import hashlib

import pytest
from windows_harness import WindowsLab

from tests.fixtures import step

HOST = "ps1.lab.example"
SMS = "HKLM:\\SOFTWARE\\Microsoft\\SMS"
INSTALL = "C:\\Program Files\\Microsoft Configuration Manager"
DATA = "C:\\Data\\Logs"
MGMT = "Microsoft.PowerShell.Commands"


@pytest.fixture
def lab() -> WindowsLab:
    return WindowsLab()


def values(lab: WindowsLab, *path: str) -> dict:
    node = lab.dump_host(HOST)["registry"]["HKEY_LOCAL_MACHINE"]
    for part in ("SOFTWARE", *path):
        node = node["keys"][part]
    return node["values"]


def test_site_server_keys_and_items(lab):
    out = lab.ok(
        step("id", "Get-ItemProperty", {"Site Code": None, "Site Server Name": None, "PSChildName": None}, Path=f"{SMS}\\Identification"),
        step("setup", "Get-ItemProperty", {"Installation Directory": None}, LiteralPath=f"{SMS}\\Setup"),
        step("key", "Get-Item", {"Name": None, "Property": None, "SubKeyCount": None, "PSPath": None}, Path=f"{SMS}\\Setup"),
        step("provider", "Get-Item", {"Name": None}, LiteralPath="Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS"),
        step("test", "Test-Path", Path=[f"{SMS}\\Setup", f"{SMS}\\Nope", "HKLM:\\SOFTWARE\\Microsoft\\S*"]),
        host=HOST,
    )
    assert out["id"] == [{"Site Code": "PS1", "Site Server Name": "ps1.lab.example", "PSChildName": "Identification"}]
    assert out["setup"] == [{"Installation Directory": INSTALL}]
    assert out["key"] == [
        {
            "Name": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS\\Setup",
            "Property": ["Installation Directory"],
            "SubKeyCount": 0,
            "PSPath": "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS\\Setup",
        }
    ]
    assert out["provider"] == [{"Name": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS"}]
    assert out["test"] == [True, False, True]


def test_missing_key_and_missing_value_are_the_real_errors(lab):
    assert lab.error(step("k", "Get-ItemProperty", Path=f"{SMS}\\Nope"), host=HOST) == {
        "message": f"Cannot find path '{SMS}\\Nope' because it does not exist.",
        "category": "ObjectNotFound",
        "fqid": f"PathNotFound,{MGMT}.GetItemPropertyCommand",
        "exception": "System.Management.Automation.ItemNotFoundException",
    }
    assert lab.error(step("v", "Get-ItemProperty", Path=f"{SMS}\\Setup", Name=["Nope"]), host=HOST) == {
        "message": "Property Nope does not exist at path HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS\\Setup.",
        "category": "InvalidArgument",
        "fqid": f"System.Management.Automation.PSArgumentException,{MGMT}.GetItemPropertyCommand",
        "exception": "System.Management.Automation.PSArgumentException",
    }
    assert lab.error(step("i", "Get-Item", Path=f"{SMS}\\Nope"), host=HOST)["fqid"] == f"PathNotFound,{MGMT}.GetItemCommand"
    assert (
        lab.error(step("s", "Set-ItemProperty", Path=f"{SMS}\\Nope", Name="X", Value=1), host=HOST)["fqid"]
        == f"PathNotFound,{MGMT}.SetItemPropertyCommand"
    )
    assert lab.ok(step("w", "Get-ItemProperty", Path=f"{SMS}\\No*"), host=HOST)["w"] == []


def test_value_kinds_are_kept_and_read_back_as_dotnet_does(lab):
    key = f"{SMS}\\Tracing\\SMS_TEST"
    lab.host(HOST).registry.ensure_key(key)
    lab.ok(
        step("s", "New-ItemProperty", Path=key, Name="Str", Value="x"),
        step("d", "New-ItemProperty", Path=key, Name="DW", Value="4294967295", PropertyType="DWord"),
        step("q", "New-ItemProperty", Path=key, Name="QW", Value=5, PropertyType="QWord"),
        step("e", "New-ItemProperty", Path=key, Name="EX", Value="%SystemRoot%\\temp", PropertyType="ExpandString"),
        step("m", "New-ItemProperty", Path=key, Name="MS", Value=["a", "b"], PropertyType="MultiString"),
        step("b", "New-ItemProperty", Path=key, Name="BI", Value=[1, 255], PropertyType="Binary"),
        step("i", "Set-ItemProperty", Path=key, Name="Inferred", Value=7),
        step("keep", "Set-ItemProperty", Path=key, Name="DW", Value="12"),  # stays a DWord
        step("type", "Set-ItemProperty", Path=key, Name="Str", Value=3, Type="DWord"),
        host=HOST,
    )
    stored = values(lab, "Microsoft", "SMS", "Tracing", "SMS_TEST")
    assert {name: v["kind"] for name, v in stored.items()} == {
        "BI": "Binary",
        "DW": "DWord",
        "EX": "ExpandString",
        "Inferred": "DWord",
        "MS": "MultiString",
        "QW": "QWord",
        "Str": "DWord",
    }
    assert stored["DW"]["data"] == 12 and stored["EX"]["data"] == "%SystemRoot%\\temp"
    out = lab.ok(
        step("r", "Get-ItemProperty", {"EX": None, "MS": None, "BI": None, "QW": None}, Path=key),
        step("neg", "Set-ItemProperty", Path=key, Name="DW", Value=4294967295),
        step("dw", "Get-ItemProperty", {"DW": None}, Path=key, Name=["DW"]),
        host=HOST,
    )
    assert out["r"] == [{"EX": "C:\\Windows\\temp", "MS": ["a", "b"], "BI": [1, 255], "QW": 5}]
    assert out["dw"] == [{"DW": -1}]  # DWord reads back as Int32


def test_write_errors(lab):
    before = lab.model.dump()
    exists = lab.error(step("n", "New-ItemProperty", Path=f"{SMS}\\Setup", Name="Installation Directory", Value="x"), host=HOST)
    assert exists == {
        "message": "The property already exists.",
        "category": "ResourceExists",
        "fqid": f"System.IO.IOException,{MGMT}.NewItemPropertyCommand",
        "exception": "System.IO.IOException",
    }
    bad = lab.error(step("d", "Set-ItemProperty", Path=f"{SMS}\\Identification", Name="Site Code", Value="x", Type="DWord"), host=HOST)
    assert bad["category"] == "InvalidArgument" and 'to type "System.Int32"' in bad["message"]
    kind = lab.error(step("k", "New-ItemProperty", Path=f"{SMS}\\Setup", Name="Y", Value="x", PropertyType="Text"), host=HOST)
    assert "RegistryValueKind" in kind["message"]
    assert lab.model.dump() == before
    lab.ok(step("f", "New-ItemProperty", Path=f"{SMS}\\Setup", Name="Installation Directory", Value="D:\\CM", Force=True), host=HOST)
    assert values(lab, "Microsoft", "SMS", "Setup")["Installation Directory"] == {"kind": "String", "data": "D:\\CM"}


def test_child_items_in_the_registry(lab):
    out = lab.ok(
        step("names", "Get-ChildItem", None, Path=SMS, Name=True),
        step("deep", "Get-ChildItem", None, LiteralPath=f"{SMS}\\Components", Recurse=True, Name=True),
        step("keys", "Get-ChildItem", {"PSChildName": None, "SubKeyCount": None}, Path=f"{SMS}\\Setup"),
        host=HOST,
    )
    assert {"Components", "Identification", "Setup", "Tracing"} <= set(out["names"])
    assert "SMS_EXECUTIVE\\Threads" in out["deep"] and out["keys"] == []
    assert (
        lab.error(step("f", "Get-ChildItem", Path=SMS, Filter="S*"), host=HOST)["message"]
        == "Cannot call method. The provider does not support the use of filters."
    )


def test_files_and_directories(lab):
    host = lab.host(HOST)
    host.fs.write_text(f"{DATA}\\hman.log", "one\r\ntwo\r\n")
    host.fs.write_text(f"{DATA}\\hman.lo_", "old\r\n")
    host.fs.write_text(f"{DATA}\\sub\\deep.log", "x")
    out = lab.ok(
        step("logs", "Get-ChildItem", {"Name": None, "Length": None, "Mode": None}, Path=DATA),
        step("filter", "Get-ChildItem", None, Path=DATA, Filter="*.log", Recurse=True, Name=True),
        step("files", "Get-ChildItem", {"FullName": None}, Path=f"{DATA}\\*.lo?", File=True),
        step("dirs", "Get-ChildItem", {"Name": None}, Path=DATA, Directory=True),
        step(
            "item",
            "Get-Item",
            {"Name": None, "Length": None, "Extension": None, "BaseName": None, "DirectoryName": None, "PSIsContainer": None},
            LiteralPath=f"{DATA.lower()}\\HMAN.LOG",
        ),
        step("test", "Test-Path", Path=[f"{DATA}\\hman.log", DATA], PathType="Leaf"),
        step("drive", "Test-Path", Path=["D:\\nothing"]),
        host=HOST,
    )
    assert out["logs"] == [
        {"Name": "sub", "Length": None, "Mode": "d-----"},
        {"Name": "hman.lo_", "Length": 5, "Mode": "-a----"},
        {"Name": "hman.log", "Length": 10, "Mode": "-a----"},
    ]
    assert out["filter"] == ["hman.log", "sub\\deep.log"]
    assert out["files"] == [{"FullName": f"{DATA}\\hman.lo_"}, {"FullName": f"{DATA}\\hman.log"}]
    assert out["dirs"] == [{"Name": "sub"}]
    assert out["item"] == [
        {"Name": "hman.log", "Length": 10, "Extension": ".log", "BaseName": "hman", "DirectoryName": DATA, "PSIsContainer": False}
    ]
    assert out["test"] == [True, False] and out["drive"] == [False]
    files = lab.dump_host(HOST)["files"]
    assert files[f"{DATA}\\hman.log"] == {"bytes": 10, "lines": 2}
    assert f"{DATA}\\sub" in lab.dump_host(HOST)["directories"]


def test_get_content(lab):
    host = lab.host(HOST)
    path = f"{DATA}\\x.log"
    host.fs.write_text(path, "a\r\nb\r\nc\r\nd\r\n")
    out = lab.ok(
        step("all", "Get-Content", Path=[path]),
        step("tail", "Get-Content", Path=[path], Tail=2),
        step("head", "Get-Content", LiteralPath=[path], TotalCount=1),
        step("raw", "Get-Content", Path=[path], Raw=True),
        step("zero", "Get-Content", Path=[path], Tail=0),
        step("bytes", "Get-Content", Path=[path], Encoding="Byte", TotalCount=3),
        step("enc", "Get-Content", Path=[path], Encoding="UTF8", Tail=1),
        host=HOST,
    )
    assert out == {
        "all": ["a", "b", "c", "d"],
        "tail": ["c", "d"],
        "head": ["a"],
        "raw": ["a\r\nb\r\nc\r\nd\r\n"],
        "zero": [],
        "bytes": [97, 13, 10],
        "enc": ["d"],
    }
    assert lab.error(step("m", "Get-Content", Path=["C:\\nope.log"]), host=HOST) == {
        "message": "Cannot find path 'C:\\nope.log' because it does not exist.",
        "category": "ObjectNotFound",
        "fqid": f"PathNotFound,{MGMT}.GetContentCommand",
        "exception": "System.Management.Automation.ItemNotFoundException",
    }
    assert lab.error(step("d", "Get-Content", Path=[DATA]), host=HOST)["category"] == "PermissionDenied"
    assert lab.error(step("r", "Get-Content", Path=[f"{SMS}\\Setup"]), host=HOST)["category"] == "NotImplemented"


def test_service_connection_tool_folder_on_the_site_server(lab):
    folder = f"{INSTALL}\\CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool"
    out = lab.ok(
        step("setup", "Get-ItemProperty", LiteralPath=f"{SMS}\\Setup", Name=["Installation Directory"]),
        step("exe", "Test-Path", LiteralPath=[f"{folder}\\ServiceConnectionTool.exe"], PathType="Leaf"),
        host="cas.lab.example",
    )
    assert out["exe"] == [True]
    assert lab.ok(step("exe", "Test-Path", Path=[f"{folder}\\ServiceConnectionTool.exe"]))["exe"] == [False]  # scp01


def test_get_file_hash_of_files_and_bytes(lab):
    fs = lab.host(HOST).fs
    fs.write_text("C:\\Data\\a.txt", "hello")
    fs.write_bytes("C:\\Data\\b.bin", b"\xff\x00\xfe")
    out = lab.ok(
        step(
            "h",
            "Get-FileHash",
            {"Algorithm": None, "Hash": None, "Path": None},
            LiteralPath=["C:\\Data\\a.txt", "C:\\Data\\b.bin", "C:\\Data"],
            Algorithm="SHA1",
        ),
        step("default", "Get-FileHash", {"Algorithm": None, "Hash": None}, Path="C:\\Data\\*.txt"),
        host=HOST,
    )
    assert out["h"] == [
        {"Algorithm": "SHA1", "Hash": "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D", "Path": "C:\\Data\\a.txt"},
        {"Algorithm": "SHA1", "Hash": hashlib.sha1(b"\xff\x00\xfe").hexdigest().upper(), "Path": "C:\\Data\\b.bin"},
    ]
    # (the folder is skipped)
    assert out["default"] == [{"Algorithm": "SHA256", "Hash": "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"}]
    error = lab.error(step("missing", "Get-FileHash", LiteralPath=["C:\\Data\\nope.txt"]), host=HOST)
    assert error["message"] == "Cannot find path 'C:\\Data\\nope.txt' because it does not exist."
