"""configmgr.scp.tls_settings: the decision, WinHttpSettings, certificate files, the pending reboot, the wait."""

from __future__ import annotations

import base64
import datetime
import struct

import pytest
from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure

from ansible_collections.configmgr.scp.plugins.plugin_utils import _reboot, _tls
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult, TransportError

BOOT = "2026-11-29T06:50:04.1230000+00:00"
NOW = "2026-11-29T08:00:00.0000000+00:00"
G2 = _tls.KNOWN_ROOTS[0]


def root_row(known, not_after="2038-01-15T12:00:00.0000000+00:00", thumbprint=None):
    return {
        "Thumbprint": thumbprint or known.thumbprint,
        "Subject": known.subject,
        "NotBefore": "2013-08-01T12:00:00.0000000+00:00",
        "NotAfter": not_after,
    }


DEFAULT_ROOTS = [root_row(r) for r in _tls.KNOWN_ROOTS if not r.history and "D-TRUST" not in r.name]


def winhttp(proxy: str | None, bypass: str = "", access: int | None = None, counter: int = 3) -> list[int]:
    server, by = (proxy or "").encode(), bypass.encode()
    access = access if access is not None else (3 if proxy else 1)
    data = struct.pack("<III", 0x18, counter, access) + struct.pack("<I", len(server)) + server
    return list(data + struct.pack("<I", len(by)) + by)


def result(
    *,
    keys=(True, True, True, False, False, False),
    netfx64=None,
    netfx32=None,
    schannel=None,
    roots=None,
    marker=None,
    executive="Running",
    boot=BOOT,
    files=(),
    proxy=None,
) -> PlanResult:
    steps = {}

    def add(step_id, output, ok=True, error=None):
        steps[step_id] = StepResult(step_id, ok, output if isinstance(output, list) else [output], error)

    add("keys", list(keys))
    for step, values in (("netfx64", netfx64), ("netfx32", netfx32)):
        add(step, values or {"SchUseStrongCrypto": None, "SystemDefaultTlsVersions": None})
    if schannel is None:
        add("schannel", [], ok=False, error={"message": "Cannot find path", "category": "ObjectNotFound"})
    else:
        add("schannel", schannel)
    add("roots", list(DEFAULT_ROOTS if roots is None else roots))
    add("ndp", {"Release": 528449, "Version": "4.8.04161"})
    add("winhttp", {"WinHttpSettings": winhttp(proxy)})
    add("os", {"LastBootUpTime": boot, "LocalDateTime": NOW, "CSName": "SCP01"})
    if executive:
        add("executive", {"Status": executive})
    else:
        add("executive", [], ok=False, error={"message": "Cannot find any service", "category": "ObjectNotFound"})
    if marker is None:
        add("marker", [], ok=False, error={"message": "Cannot find path", "category": "ObjectNotFound"})
    else:
        add("marker", marker)
    for index, data in enumerate(files):
        if isinstance(data, dict):
            add(f"file{index}", [], ok=False, error=data)
        else:
            add(f"file{index}", list(data))
    return PlanResult(steps)


def decide(res: PlanResult, files=(), **want):
    return _tls.decide(_tls.Want(certificate_files=list(files), **want), _tls.observed(res, list(files)))


SET = {"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1}
DONE = dict(keys=(True, True, True, True, True, False), netfx64=SET, netfx32=SET, schannel={"Enabled": 1, "DisabledByDefault": 0})


# -- the decision ---------------------------------------------------------------------------------


def test_a_default_server_gets_every_value_and_needs_a_reboot():
    d = decide(result())
    assert d.changed
    c = d.changes
    assert c.netfx == {"64-bit": list(_tls.NETFX_VALUES), "32-bit": list(_tls.NETFX_VALUES)}
    assert c.schannel == ["Enabled", "DisabledByDefault"]
    # The key is absent on a default server: created level by level, never with -Force.
    assert c.schannel_new_keys == [_tls.TLS12_KEY, _tls.TLS12_CLIENT_KEY]
    assert d.result["reboot_required"] is True
    assert d.result["reboot_reasons"] == [".NET strong cryptography changed (TLS 1.2 for .NET)"]
    # SCHANNEL's default already allows TLS 1.2: writing it explicitly changes nothing SMS_EXECUTIVE uses.
    assert d.result["executive_restart_required"] is False
    assert d.before[".NET 64-bit SchUseStrongCrypto"] is None and d.after[".NET 64-bit SchUseStrongCrypto"] == 1
    assert d.after["SCHANNEL TLS 1.2 Client DisabledByDefault"] == 0
    assert d.result["ready"] is False and "reboot is needed" in d.result["problems"][0]
    assert d.result["winhttp_proxy"] == {"access_type": "direct", "proxy": "", "bypass": ""}


def test_a_prepared_server_is_unchanged_and_ready():
    d = decide(result(**DONE))
    assert not d.changed and d.changes.writes is False
    assert d.result["reboot_required"] is False and d.result["ready"] is True and d.result["problems"] == []
    assert d.before == d.after
    assert [r["status"] for r in d.result["root_certificates"] if r["name"] == G2.name] == ["present"]


def test_schannel_turned_off_is_turned_on_and_needs_sms_executive_restarted():
    d = decide(result(**{**DONE, "schannel": {"Enabled": 0, "DisabledByDefault": 1}}))
    assert d.changes.schannel == ["Enabled", "DisabledByDefault"] and d.changes.schannel_new_keys == []
    assert d.result["reboot_required"] is False and d.result["executive_restart_required"] is True
    # No SMS_EXECUTIVE on the server (the SCP is not installed yet): nothing to restart.
    d = decide(result(**{**DONE, "schannel": {"Enabled": 0, "DisabledByDefault": 1}}, executive=None))
    assert d.result["executive_restart_required"] is False


def test_options_off_leave_the_values_alone_but_report_them():
    d = decide(result(), dotnet_tls12=False, schannel_tls12_client=False)
    assert not d.changed
    assert d.result["dotnet"]["tls12"] is False and d.result["schannel_tls12_client"]["tls12"] is True
    assert d.result["ready"] is False


def test_a_missing_netfx_key_is_created_first():
    d = decide(result(keys=(True, False, True, False, False, False)))
    assert d.changes.netfx_new_keys == [_tls.NETFX_KEYS["32-bit"]]


def test_the_reboot_option_reboots_only_when_a_change_needs_it():
    assert decide(result(**DONE), reboot=True).changed is False
    d = decide(result(), reboot=True)
    assert d.changes.reboot and "reboot the server and wait until it is back" in d.result["changes"]
    assert d.result["reboot_required"] is True  # needed; the task does it
    # The task reboots: what it predicts afterwards has no pending reboot.
    assert all("reboot" not in p for p in d.result["problems"]) and d.result["ready"] is True


def test_a_reboot_an_earlier_run_could_not_do_is_still_pending():
    marker = {"RebootPendingSince": BOOT, "RebootPendingFor": ".NET strong cryptography changed (TLS 1.2 for .NET)"}
    keys = (True, True, True, True, True, True)
    d = decide(result(**{**DONE, "keys": keys}, marker=marker))
    assert not d.changed
    assert d.result["reboot_required"] is True and d.result["ready"] is False
    assert d.result["reboot_reasons"] == [".NET strong cryptography changed (TLS 1.2 for .NET)"]
    d = decide(result(**{**DONE, "keys": keys}, marker=marker), reboot=True)
    assert d.changed and d.changes.reboot and not d.changes.writes
    # Once the server has booted again, the record is history.
    later = "2026-11-29T07:30:00.0000000+00:00"
    d = decide(result(**{**DONE, "keys": keys}, marker=marker, boot=later))
    assert d.result["reboot_required"] is False and d.result["ready"] is True


def test_the_pending_reboot_is_recorded_with_the_boot_it_happened_in():
    d = decide(result())
    plan = _tls.write_plan(d.changes, [])
    steps = {s.id: s for s in plan.steps}
    assert steps["marker_key"].cmdlet == "New-Item" and steps["marker_key"].params == {"Path": _tls.MARKER_KEY}
    assert steps["marker_since"].params["Value"] == BOOT
    assert "Force" not in str([s.params for s in plan.steps if s.cmdlet == "New-Item"])
    assert [s.params["Path"] for s in plan.steps if s.cmdlet == "New-Item"] == [_tls.TLS12_KEY, _tls.TLS12_CLIENT_KEY, _tls.MARKER_KEY]
    assert steps["schannel_Enabled"].params == {"LiteralPath": _tls.TLS12_CLIENT_KEY, "Name": "Enabled", "Value": 1, "Type": "DWord"}
    assert plan.actions["netfx32_SchUseStrongCrypto"] == "set SchUseStrongCrypto = 1 for .NET (32-bit)"
    assert [s.id for s in plan.steps][-5:] == ["after_keys", "after_netfx64", "after_netfx32", "after_schannel", "after_roots"]


# -- root certificates ----------------------------------------------------------------------------


def test_roots_are_present_missing_or_expired():
    rows = [r for r in DEFAULT_ROOTS if r["Subject"] != G2.subject]
    rows.append(root_row(G2, not_after="2024-01-15T12:00:00.0000000+00:00", thumbprint="AB" * 20))
    d = decide(result(**{**DONE, "roots": rows}))
    status = {r["name"]: r["status"] for r in d.result["root_certificates"]}
    assert status[G2.name] == "expired" and status["D-TRUST Root Class 3 CA 2 2009"] == "missing"
    assert status["Microsoft RSA Root Certificate Authority 2017"] == "present"
    assert d.result["ready"] is False and any("DigiCert Global Root G2 is expired" in p for p in d.result["problems"])
    assert any("give its file in certificate_files" in w for w in d.warnings)
    assert not d.changed  # nothing to install it from: reported, never downloaded
    d = decide(result(**{**DONE, "roots": [r for r in DEFAULT_ROOTS if r["Subject"] != G2.subject]}))
    assert {r["name"]: r["status"] for r in d.result["root_certificates"]}[G2.name] == "missing"


def test_baltimore_is_history_and_never_a_problem():
    rows = [*DEFAULT_ROOTS, root_row(_tls.KNOWN_ROOTS[-1], not_after="2025-05-12T23:59:00.0000000+00:00")]
    d = decide(result(**{**DONE, "roots": rows}))
    assert {r["name"]: r["status"] for r in d.result["root_certificates"]}["Baltimore CyberTrust Root"] == "expired"
    assert d.result["ready"] is True and "root Baltimore CyberTrust Root" not in d.before


def _cert(subject_cn: str, *, self_signed=True, days=(-10, 3650), pem=True) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer = name if self_signed else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1]))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)


def real_root_pem(name: str) -> bytes:
    """The real certificate, from certifi's bundle (requests brings it): its thumbprint is the published one."""
    import re

    import certifi

    text = open(certifi.where(), encoding="ascii").read()
    block = re.search(
        r"# Label: \"" + re.escape(name) + r"\"\n.*?(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)", text, re.S
    ).group(1)
    return block.encode("ascii")


def test_a_certificate_file_with_the_published_thumbprint_is_imported():
    pem = real_root_pem("DigiCert Global Root G2")
    rows = [r for r in DEFAULT_ROOTS if r["Subject"] != G2.subject]
    d = _tls.decide(
        _tls.Want(certificate_files=["C:\\Certs\\g2.crt"]),
        _tls.observed(result(**{**DONE, "roots": rows}, files=[pem]), ["C:\\Certs\\g2.crt"]),
    )
    assert [c.root.name for c in d.changes.imports] == [G2.name]
    assert d.result["reboot_required"] is True and d.result["reboot_reasons"][0].startswith("root certificates imported")
    assert {r["name"]: r["status"] for r in d.result["root_certificates"]}[G2.name] == "present"
    assert d.before["root DigiCert Global Root G2"] == "missing" and d.after["root DigiCert Global Root G2"] == "present"
    steps = {s.id: s for s in _tls.write_plan(d.changes, ["C:\\Certs\\g2.crt"]).steps}
    assert steps["import0"].params == {"FilePath": "C:\\Certs\\g2.crt", "CertStoreLocation": "Cert:\\LocalMachine\\Root"}
    # DER works as well as PEM; and a store that has it already (by thumbprint) is left alone.
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    d = _tls.decide(_tls.Want(certificate_files=["C:\\c.cer"]), _tls.observed(result(**DONE, files=[der]), ["C:\\c.cer"]))
    assert not d.changed


@pytest.mark.parametrize(
    "data, words",
    [
        (_cert("DigiCert Global Root G2"), "is not one of the root certificates"),  # a look-alike
        (_cert("Contoso Root"), "is not one of the root certificates"),
        (_cert("DigiCert Global Root G2", self_signed=False), "is not a root certificate"),
        (_cert("DigiCert Global Root G2", days=(-3650, -10)), "is not valid now"),
        (b"hello", "is not a certificate"),
        (b"", "the file is empty"),
        (_cert("A") + _cert("B"), "holds 2 certificates"),
        ({"message": "Cannot find path 'C:\\Certs\\g2.crt' because it does not exist."}, "could not be read: Cannot find path"),
    ],
)
def test_a_certificate_file_that_is_not_a_known_root_is_refused_before_anything_is_written(data, words):
    with pytest.raises(AnsibleActionFail) as e:
        _tls.decide(_tls.Want(certificate_files=["C:\\Certs\\g2.crt"]), _tls.observed(result(**DONE, files=[data]), ["C:\\Certs\\g2.crt"]))
    assert "certificate_files: C:\\Certs\\g2.crt:" in str(e.value) and words in str(e.value)


@pytest.mark.parametrize(
    "path",
    [
        "g2.crt",
        "\\\\server\\share\\g2.crt",
        "C:\\Certs\\*.crt",
        "C:\\Certs\\g[2].crt",
        "C:\\Certs\\",
        "C:\\Ce\nrts\\g2.crt",
        "C:/Certs/g2.crt",
        "C:\\" + "a" * 300,
        # found by the hostile-input suite: the rules of every full path
        "C:\\Certs\\..\\..\\Windows\\g2.crt",
        "C:\\Certs\\.\\g2.crt",
        "C:\\Certs\\g2.crt:zone",
        "C:\\Certs \\g2.crt",
        "C:\\Certs.\\g2.crt",
        "C:\\Certs\\g\u202e2.crt",
        "C:\\Certs\\g\u200b2.crt",
        "C:\\Certs\\g\x852.crt",
    ],
)
def test_certificate_paths_are_full_local_paths_without_wildcards(path):
    with pytest.raises(AnsibleActionFail, match="certificate_files must list full paths"):
        _tls.certificate_path(path)


def test_certificate_paths_with_spaces_and_dots_are_fine():
    assert _tls.certificate_path("C:\\Program Files\\Certs\\DigiCert Global Root G2.crt")


# -- WinHttpSettings ----------------------------------------------------------------------------


def test_winhttp_settings_direct_and_proxy():
    assert _tls.parse_winhttp(winhttp(None)) == {"access_type": "direct", "proxy": "", "bypass": "", "valid": True, "present": True}
    assert _tls.parse_winhttp(winhttp("proxy.contoso.com:8080", "<local>;*.contoso.com")) == {
        "access_type": "proxy",
        "proxy": "proxy.contoso.com:8080",
        "bypass": "<local>;*.contoso.com",
        "valid": True,
        "present": True,
    }
    assert _tls.parse_winhttp(bytes(winhttp("p:3128")))["proxy"] == "p:3128"
    assert _tls.parse_winhttp(None)["present"] is False


@pytest.mark.parametrize("data", [[1, 2, 3], winhttp("proxy:8080")[:20], winhttp("p")[:-1], [300] * 4, "text"])
def test_winhttp_settings_that_do_not_parse_read_as_direct_and_say_so(data):
    parsed = _tls.parse_winhttp(data)
    assert parsed["access_type"] == "direct" and parsed["valid"] is False


def test_an_unknown_access_type_is_not_a_proxy():
    parsed = _tls.parse_winhttp(winhttp("proxy:8080", access=7))
    assert parsed["access_type"] == "direct" and parsed["valid"] is False


def test_an_old_dotnet_is_warned_about():
    res = result(**DONE)
    res.steps["ndp"] = StepResult("ndp", True, [{"Release": 379893, "Version": "4.5.2"}], None)
    assert any("older than 4.6.2" in w for w in _tls.decide(_tls.Want(), _tls.observed(res)).warnings)


# -- the reboot wait ----------------------------------------------------------------------------


class FakeHost:
    def __init__(self, script):
        self.script = list(script)  # what each read does: a boot time, or an exception
        self.resets = 0
        self.slept = []
        self.now = 0.0

    def read(self):
        item = self.script.pop(0) if self.script else "never"
        if isinstance(item, Exception):
            raise item
        return item

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_the_wait_survives_the_host_going_away_and_ends_on_a_new_boot_time():
    host = FakeHost([BOOT, AnsibleConnectionFailure("refused"), OSError("reset by peer"), "2026-11-29T07:00:00Z"])
    outcome = _reboot.reboot_and_wait(
        lambda: None, host.read, lambda: setattr(host, "resets", host.resets + 1), BOOT, 600, sleep=host.sleep, clock=lambda: host.now
    )
    assert outcome.boot_time == "2026-11-29T07:00:00Z" and outcome.attempts == 4
    assert host.resets == 2 and len(outcome.failures) == 2
    assert host.slept == [2.0, 1.0, 2.0, 4.0]  # a first pause: Windows takes a moment to go down


def test_a_connection_lost_under_the_restart_command_is_the_reboot_under_way():
    host = FakeHost(["2026-11-29T07:00:00Z"])

    def restart():
        raise AnsibleConnectionFailure("the host went away")

    assert (
        _reboot.reboot_and_wait(restart, host.read, lambda: None, BOOT, 60, sleep=host.sleep, clock=lambda: host.now).boot_time
        == "2026-11-29T07:00:00Z"
    )


def test_a_refused_restart_is_a_failure_and_a_host_that_never_comes_back_times_out():
    class Refused(AnsibleActionFail):
        step = "restart"

    with pytest.raises(AnsibleActionFail):
        _reboot.reboot_and_wait(lambda: (_ for _ in ()).throw(Refused("no")), lambda: BOOT, lambda: None, BOOT, 60)
    host = FakeHost([AnsibleConnectionFailure("refused")] * 100)
    with pytest.raises(AnsibleActionFail, match=r"did not come back from its reboot within reboot_timeout \(30 s\)"):
        _reboot.reboot_and_wait(lambda: None, host.read, lambda: None, BOOT, 30, sleep=host.sleep, clock=lambda: host.now)
    assert max(host.slept) <= 10.0 and sum(host.slept) <= 32.0


def unreachable(operation: str, steps=("os",), writes=()) -> TransportError:
    error = TransportError("down", "scp01.example", operation, "the connection was refused", "raw", list(steps))
    error.writes = list(writes)
    return error


def test_a_restart_that_never_reached_the_host_is_not_a_reboot():
    """The write plan was refused before it ran (host down, credentials rejected): nothing was written, no reboot was
    asked for, so there is nothing to wait for - the task's own transport failure says so at once."""
    host = FakeHost([])
    never = unreachable("connect", steps=("netfx64_SchUseStrongCrypto", "restart"), writes=("set it", "start a reboot"))
    with pytest.raises(TransportError) as failed:
        _reboot.reboot_and_wait(lambda: (_ for _ in ()).throw(never), host.read, lambda: None, BOOT, 60, sleep=host.sleep)
    assert failed.value is never and failed.value.ran is False
    assert host.slept == []  # not one read of the boot time


@pytest.mark.parametrize("answer_lost", [False, True])
def test_a_host_unreachable_to_the_deadline_is_a_transport_failure_of_the_wait(answer_lost):
    """Unreachable until reboot_timeout: the failure names the wait as its step; when the restart's own answer was lost,
    its writes are unknown (the task says "Unknown whether it was done"), not done or done."""
    host = FakeHost([unreachable("connect") for _ in range(100)])
    writes = ("set SchUseStrongCrypto", "start a reboot of the server")

    def restart():
        if answer_lost:
            raise unreachable("read the result", steps=("restart",), writes=writes)

    with pytest.raises(TransportError) as failed:
        _reboot.reboot_and_wait(restart, host.read, lambda: None, BOOT, 30, sleep=host.sleep, clock=lambda: host.now)
    error = failed.value
    assert error.purpose.startswith("waiting for the server to come back from its reboot, up to reboot_timeout (30 s)")
    assert BOOT in error.purpose and error.steps == ["os"]
    assert (error.writes, error.ran) == ((list(writes), None) if answer_lost else ([], False))
