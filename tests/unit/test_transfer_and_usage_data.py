"""configmgr.scp.file_transfer and usage_data decisions (plugin_utils/_transfer.py, _usage_data.py), without a host."""

from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _transfer, _usage_data
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def remote(item=None, files=(), drive=True) -> PlanResult:
    """What the read returns: the item, its files (FullName, Length) and their SHA-1 (upper case, as Get-FileHash)."""
    steps = {
        "drive": StepResult("drive", True, [drive], None),
        "item": StepResult("item", item is not None, [item] if item else [], None),
        "files": StepResult("files", True, [{"FullName": p, "Length": len(d)} for p, d in files], None),
        "hashes": StepResult("hashes", True, [{"Path": p, "Hash": sha1(d).upper()} for p, d in files], None),
    }
    return PlanResult(steps)


def test_fetch_moves_only_what_differs(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "same.txt").write_bytes(b"same")
    (tmp_path / "sub" / "old.cab").write_bytes(b"old")
    want = _transfer.Want("fetch", "C:\\Packs", str(tmp_path))
    tree = _transfer.RemoteTree.of(
        want,
        remote(
            {"FullName": "C:\\Packs", "PSIsContainer": True},
            [("C:\\Packs\\same.txt", b"same"), ("C:\\Packs\\sub\\old.cab", b"new"), ("C:\\Packs\\sub\\new.cab", b"x")],
        ),
    )
    decision = _transfer.decide(want, tree, "inet01")
    assert decision.result["transferred"] == ["sub/new.cab", "sub/old.cab"]
    assert decision.result["files"] == ["same.txt", "sub/new.cab", "sub/old.cab"]
    assert [m.source for m in decision.changes] == ["C:\\Packs\\sub\\new.cab", "C:\\Packs\\sub\\old.cab"]
    assert decision.changes[1].target == str(tmp_path / "sub" / "old.cab")


def test_fetch_of_a_file_and_the_refusals(tmp_path):
    want = _transfer.Want("fetch", "C:\\U\\u.cab", str(tmp_path / "u.cab"))
    tree = _transfer.RemoteTree.of(want, remote({"FullName": "C:\\U\\u.cab", "PSIsContainer": False}, [("C:\\U\\u.cab", b"data")]))
    assert _transfer.decide(want, tree, "scp01").result["transferred"] == ["u.cab"]
    (tmp_path / "u.cab").write_bytes(b"data")
    assert not _transfer.decide(want, tree, "scp01").changed
    with pytest.raises(AnsibleActionFail, match=r"src C:\\U\\u.cab does not exist on scp01"):
        _transfer.decide(want, _transfer.RemoteTree.of(want, remote()), "scp01")
    with pytest.raises(AnsibleActionFail, match="The drive C: does not exist on scp01"):
        _transfer.decide(want, _transfer.RemoteTree.of(want, remote(drive=False)), "scp01")
    folder = _transfer.Want("fetch", "C:\\U\\u.cab", str(tmp_path))
    with pytest.raises(AnsibleActionFail, match="is a folder on the controller"):
        _transfer.decide(folder, tree, "scp01")
    checking = _transfer.Want("fetch", "C:\\U\\u.cab", str(tmp_path / "u.cab"), check_mode=True)
    decision = _transfer.decide(checking, _transfer.RemoteTree.of(checking, remote()), "scp01")
    assert decision.changed and "check mode: assuming an earlier task" in decision.warnings[0]


def test_put_moves_only_what_differs_and_checks_every_name(tmp_path):
    (tmp_path / "a b").mkdir()
    (tmp_path / "a b" / "x.cab").write_bytes(b"x")
    (tmp_path / "y.txt").write_bytes(b"y")
    is_dir, files = _transfer.local_tree(str(tmp_path), "src")
    assert is_dir and files == {"a b/x.cab": sha1(b"x"), "y.txt": sha1(b"y")}
    want = _transfer.Want("put", "C:\\Dest", str(tmp_path), files, True)
    tree = _transfer.RemoteTree.of(
        want, remote({"FullName": "C:\\Dest", "PSIsContainer": True}, [("C:\\Dest\\y.txt", b"y"), ("C:\\Dest\\extra.txt", b"e")])
    )
    decision = _transfer.decide(want, tree, "inet01")
    assert decision.result["transferred"] == ["a b/x.cab"] and decision.changes[0].target == "C:\\Dest\\a b\\x.cab"
    assert _transfer.folders_to_create(want, decision.changes) == ["C:\\Dest\\a b"]
    bad = _transfer.Want("put", "C:\\Dest", str(tmp_path), {"bad:name.txt": "0"}, True)
    with pytest.raises(AnsibleActionFail, match=r"bad:name\.txt of src cannot be copied"):
        _transfer.check_put_names(bad)
    single = _transfer.Want("put", "C:\\Dest\\renamed.txt", str(tmp_path / "y.txt"), {"y.txt": sha1(b"y")}, False)
    tree = _transfer.RemoteTree.of(
        single, remote({"FullName": "C:\\Dest\\renamed.txt", "PSIsContainer": False}, [("C:\\Dest\\renamed.txt", b"y")])
    )
    assert not _transfer.decide(single, tree, "inet01").changed  # compared by content, whatever the name
    with pytest.raises(AnsibleActionFail, match="is a file on inet01, but src"):
        _transfer.decide(want, tree, "inet01")


@pytest.mark.parametrize(
    ("rows", "level"),
    [
        ([{"PropertyName": "TelemetryLevel", "SiteCode": "CAS", "Value": 1}], "basic"),
        (
            [
                {"PropertyName": "TelemetryLevel", "SiteCode": "PS1", "Value": 3},
                {"PropertyName": "TelemetryLevel", "SiteCode": "CAS", "Value": 2},
            ],
            "enhanced",
        ),
        ([{"PropertyName": "TelemetryLevel", "SiteCode": "PS1", "Value": 3}], "full"),
        ([], None),
        ([{"PropertyName": "TelemetryLevel", "SiteCode": "CAS", "Value": 9}], None),
    ],
)
def test_usage_data_level_is_read_from_the_top_level_site(rows, level):
    assert _usage_data.level_of(rows, "CAS") == level


def test_usage_data_decision():
    same = _usage_data.decide("basic", "basic", "CAS")
    assert not same.changed and same.before == same.after == {"level": "basic"}
    change = _usage_data.decide("full", "enhanced", "CAS")
    assert change.changed and change.diff_header == "usage data level of the hierarchy (top-level site CAS)"
    assert _usage_data.decide("full", None, "CAS").warnings
    plan = _usage_data.write_plan("full", "CAS")
    assert plan.steps[0].params == {"TelemetryLevel": "Full"} and plan.steps[1].id == "after"


def test_a_fetch_to_a_controller_path_with_nul_is_refused_before_anything_is_read():
    """Found by the hostile-input suite: it failed with 'embedded null byte' after reading the host."""
    from ansible_collections.configmgr.scp.plugins.action.file_transfer import ActionModule

    action = object.__new__(ActionModule)
    with pytest.raises(AnsibleActionFail, match="dest must be a path on the controller without a NUL"):
        action.desired({"direction": "fetch", "src": "C:\\Windows\\Temp\\x.txt", "dest": "fetched\x00.txt"})
