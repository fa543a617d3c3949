"""The secrets suite (issue 8): every path that carries a password runs at the highest verbosity (-vvvvvv), with
--diff, in check mode, for real and with faults (a failure in the middle of a task); then every output, log and
file is searched for every password: zero occurrences.

The paths: cm_account (create, and update_password: always), the provider credentials of a remote SMS Provider
(right and wrong, through service_connection_point_info, status_message_info and endpoint_check), endpoint_check's
proxy_password through an authenticating proxy (right, wrong, wrong with the task failing, and with the site
system's proxy), the role with an installation account and a proxy account (it creates them with their passwords,
no_log tasks), and the lab's own password, which is also the WinRM password of the connection.

Where it looks: ansible-playbook's stdout and stderr, the ansible log (ANSIBLE_LOG_PATH), the plan_summary
documents, cmlab's log, and every file of cmlab's state directory except the three that hold the lab password by
design (`password`, the generated `inventory.yml`, and `ntlm_users`, which holds hashes).

Adding a path (docs/development.md, "The secrets suite"): add its tasks to one of the playbooks below with a
password from tests/fixtures.py (or a new unique one there, added to SECRETS).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fixtures import ACCOUNT_PASSWORD, ENDPOINT_PROXY_PASSWORD, PROVIDER_PASSWORD, PROXY_ACCOUNT_PASSWORD

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
# The lab's password (every account of its domain, the WinRM connection, a right provider password).
LAB_SECRET = "Lab-S3cret-9e5c!"
SECRETS = {
    "lab": LAB_SECRET,
    "account": ACCOUNT_PASSWORD,
    "proxy account": PROXY_ACCOUNT_PASSWORD,
    "wrong provider password": PROVIDER_PASSWORD,
    "wrong endpoint proxy password": ENDPOINT_PROXY_PASSWORD,
}
# Files of the state dir that hold the lab password by design.
BY_DESIGN = {"password", "inventory.yml", "ntlm_users"}
# An authenticating proxy of the lab's internet for endpoint_check (LAB\svc-cmproxy, the lab's password, passes).
# Not the role's proxy (proxy.lab.example:3128, which the SCP passes with the role's proxy account).
CHECK_PROXY = "webproxy.lab.example"

ROLE_VARS = {
    "service_connection_point_installation_account": "LAB\\svc-cminstall",
    "service_connection_point_installation_account_password": ACCOUNT_PASSWORD,
    "service_connection_point_proxy_server": "proxy.lab.example",
    "service_connection_point_proxy_port": 3128,
    "service_connection_point_proxy_account": "LAB\\svc-cmproxy",
    "service_connection_point_proxy_account_password": PROXY_ACCOUNT_PASSWORD,
}


ENDPOINT_CHECK = {
    "feature_groups": ["tenant_attach"],
    "fail_on": "never",
    "timeout": 5,
    "proxy_server": CHECK_PROXY,
    "proxy_port": 8080,
    "proxy_username": "LAB\\svc-cmproxy",
}


def modules_play(prefix: str) -> list[dict]:
    """cm_account, the provider credentials and endpoint_check's proxy account, each task on its own (ignore_errors),
    no task-level no_log: the
    modules must keep the secrets out by themselves."""
    return [
        {
            "hosts": "sms_provider",
            "gather_facts": False,
            "tasks": [
                {
                    "name": f"{prefix} create an account",
                    "ignore_errors": True,
                    "configmgr.scp.cm_account": {"name": f"LAB\\{prefix}-account", "password": ACCOUNT_PASSWORD},
                },
                {
                    "name": f"{prefix} reset its password",
                    "ignore_errors": True,
                    "configmgr.scp.cm_account": {
                        "name": f"LAB\\{prefix}-account",
                        "password": PROXY_ACCOUNT_PASSWORD,
                        "update_password": "always",
                    },
                },
                # The CMSite drive opened with explicit credentials (the provider is local here: ps1 has no console).
                {
                    "name": f"{prefix} an account through the provider's credentials",
                    "ignore_errors": True,
                    "configmgr.scp.cm_account": {
                        "name": f"LAB\\{prefix}-other",
                        "password": ACCOUNT_PASSWORD,
                        "provider_username": "LAB\\cmadmin",
                        "provider_password": LAB_SECRET,
                    },
                },
            ],
        },
        {
            "hosts": "ps1.lab.example",
            "gather_facts": False,
            "tasks": [
                # From ps1, the CAS's SMS Provider is another machine: the engine logs on to it with these credentials.
                {
                    "name": f"{prefix} a remote provider",
                    "ignore_errors": True,
                    "configmgr.scp.service_connection_point_info": {
                        "provider_server": "cas.lab.example",
                        "provider_username": "LAB\\cmadmin",
                        "provider_password": LAB_SECRET,
                    },
                },
                {
                    "name": f"{prefix} a remote provider, wrong password",
                    "ignore_errors": True,
                    "configmgr.scp.service_connection_point_info": {
                        "provider_server": "cas.lab.example",
                        "provider_username": "LAB\\cmadmin",
                        "provider_password": PROVIDER_PASSWORD,
                    },
                },
                {
                    "name": f"{prefix} status messages from a remote provider",
                    "ignore_errors": True,
                    "configmgr.scp.status_message_info": {
                        "provider_server": "cas.lab.example",
                        "provider_username": "LAB\\cmadmin",
                        "provider_password": LAB_SECRET,
                    },
                },
            ],
        },
        endpoint_play(prefix),
    ]


def endpoint_play(prefix: str) -> dict:
    """endpoint_check's proxy account on scp01: the proxy lets the right password through and answers 407 to a
    wrong one; and the site system's proxy (the role sets it on scp01: until then the task fails), read from the
    remote SMS Provider with the provider's credentials."""
    return {
        "hosts": "scp01.lab.example",
        "gather_facts": False,
        "tasks": [
            {
                "name": f"{prefix} endpoint check, right proxy password",
                "ignore_errors": True,
                "configmgr.scp.endpoint_check": {**ENDPOINT_CHECK, "proxy_password": LAB_SECRET},
            },
            {
                "name": f"{prefix} endpoint check, wrong proxy password",
                "ignore_errors": True,
                "configmgr.scp.endpoint_check": {**ENDPOINT_CHECK, "proxy_password": ENDPOINT_PROXY_PASSWORD},
            },
            {
                "name": f"{prefix} endpoint check, wrong proxy password, failing",
                "ignore_errors": True,
                "configmgr.scp.endpoint_check": {**ENDPOINT_CHECK, "proxy_password": ENDPOINT_PROXY_PASSWORD, "fail_on": "error"},
            },
            {
                "name": f"{prefix} endpoint check with the site system's proxy",
                "ignore_errors": True,
                "configmgr.scp.endpoint_check": {
                    "feature_groups": ["tenant_attach"],
                    "fail_on": "never",
                    "timeout": 5,
                    "use_site_system_proxy": True,
                    "site_system_server": "scp01.lab.example",
                    "proxy_password": ENDPOINT_PROXY_PASSWORD,
                    "site_status": True,
                    "provider_server": "cas.lab.example",
                    "provider_username": "LAB\\cmadmin",
                    "provider_password": LAB_SECRET,
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def secrets_lab(tmp_path_factory):
    from conftest import LAB_TOPOLOGY, RunningLab

    saved = os.environ.get("CMLAB_PASSWORD")
    os.environ["CMLAB_PASSWORD"] = LAB_SECRET
    try:
        lab = RunningLab(tmp_path_factory.mktemp("secrets") / "lab", LAB_TOPOLOGY)
    finally:
        if saved is None:
            del os.environ["CMLAB_PASSWORD"]
        else:
            os.environ["CMLAB_PASSWORD"] = saved
    inputs = tmp_path_factory.mktemp("inputs")  # playbooks and vars hold the secrets: outside what is searched
    outputs = tmp_path_factory.mktemp("outputs")
    runs = []

    def play(name: str, playbook: Path, *args: str, faults: tuple = ()) -> None:
        lab.clear_faults()
        for kind, host, count in faults:
            lab.add_fault(kind, host, count)
        env = {
            "ANSIBLE_LOG_PATH": str(outputs / "ansible.log"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results,configmgr.scp.plan_summary",
            "CONFIGMGR_SCP_PLAN_FILE": str(outputs / f"{name}.md"),
        }
        run = lab.playbook(playbook, "-vvvvvv", "--diff", *args, env=env, timeout=600)
        (outputs / f"{name}.stdout").write_text(run.stdout)
        (outputs / f"{name}.stderr").write_text(run.stderr)
        runs.append((name, run))

    try:
        # The role's proxy (ROLE_VARS) must be one the lab's internet knows, or the SCP's health check fails on
        # it (proxy_dns_failure) and so does the role. It wants an account, so the SCP works through it only with
        # the proxy account the role sets; endpoint_check's authenticating proxy beside it.
        lab._control(
            "POST",
            "/internet",
            {"proxies": {"proxy.lab.example": {"port": 3128, "auth_required": True}, CHECK_PROXY: {"port": 8080, "auth_required": True}}},
        )
        role_vars = inputs / "role.json"
        role_vars.write_text(json.dumps(ROLE_VARS))
        for name, check in (("plan", ("--check",)), ("apply", ())):
            modules = inputs / f"{name}.json"
            modules.write_text(json.dumps(modules_play(name)))
            play(f"modules-{name}", modules, *check)
            play(f"role-{name}", SITE, "-e", f"@{role_vars}", *check)
        # Failures in the middle of a task: the SMS Provider unavailable for the write (after the read), an HTTP
        # 500 and a WS-Management fault on the first requests, and a role whose SCP installation fails.
        faulty = inputs / "faults.json"
        faulty.write_text(json.dumps(modules_play("fault")))
        play("modules-provider-unavailable", faulty, faults=(("provider_unavailable", "cas.lab.example", None),))
        play("modules-http-500", faulty, faults=(("http_500", "cas.lab.example", 1),))
        play("modules-wsman-fault", faulty, faults=(("wsman_fault", "cas.lab.example", 2),))
        # endpoint_check after the role set the site system's proxy on scp01; then with a fault on its first request.
        lab.clear_faults()
        for prefix, name, faults in (
            ("site", "endpoints-after-role", ()),
            ("fault", "endpoints-http-500", (("http_500", "scp01.lab.example", 1),)),
        ):
            endpoints = inputs / f"{name}.json"
            endpoints.write_text(json.dumps([endpoint_play(prefix)]))
            play(name, endpoints, faults=faults)
        lab.clear_faults()
        play(
            "role-install-failure",
            SITE,
            "-e",
            f"@{role_vars}",
            "-e",
            json.dumps(
                {
                    "service_connection_point_server": "ps1.lab.example",
                    "service_connection_point_host": "ps1.lab.example",
                    "service_connection_point_wait_timeout": 20,
                }
            ),
            faults=(("install_failure", "ps1.lab.example", None),),
        )
        lab.clear_faults()
        yield lab, outputs, runs, inputs
    finally:
        lab.stop()


def test_the_paths_ran(secrets_lab):
    """The suite is only worth its grep if the secrets really travelled: the accounts exist, the right provider
    password worked and the wrong one failed, each fault struck, and the role created its accounts."""
    lab, _outputs, runs, _inputs = secrets_lab
    by_name = dict(runs)
    applied = by_name["modules-apply"]
    assert applied.task("apply create an account")["result"]["changed"] is True
    assert applied.task("apply reset its password")["result"]["password_updated"] is True
    assert applied.task("apply a remote provider")["status"] == "ok"
    assert "Access is denied" in applied.task("apply a remote provider, wrong password")["result"]["msg"]
    assert applied.task("apply an account through the provider's credentials")["status"] == "ok"
    assert applied.task("apply status messages from a remote provider")["status"] == "ok"
    right = applied.task("apply endpoint check, right proxy password")["result"]
    assert right["proxy"]["authenticated"] is True and right["endpoints"]
    assert "http_407" not in {e["class"] for e in right["endpoints"]}, right["endpoints"]
    wrong = applied.task("apply endpoint check, wrong proxy password")["result"]
    assert "http_407" in {e["class"] for e in wrong["endpoints"]}, wrong["endpoints"]
    assert applied.task("apply endpoint check, wrong proxy password, failing")["status"] == "failed"
    from_site = by_name["endpoints-after-role"].task("site endpoint check with the site system's proxy")["result"]
    assert from_site["proxy"]["source"] == "site_system" and from_site["proxy"]["authenticated"] is True, from_site
    assert by_name["role-apply"].rc == 0, by_name["role-apply"].stdout[-3000:]
    accounts = {a["user_name"] for h in lab.state()["hierarchies"].values() for a in h["accounts"]}
    assert {"LAB\\svc-cminstall", "LAB\\svc-cmproxy", "LAB\\apply-account", "LAB\\apply-other"} <= accounts
    assert "SMS Provider" in by_name["modules-provider-unavailable"].task("fault create an account")["result"]["msg"]
    for name in ("modules-http-500", "modules-wsman-fault", "endpoints-http-500"):
        statuses = [r["status"] for r in by_name[name].results if r["task"].startswith("fault")]
        assert {"failed", "unreachable"} & set(statuses), (name, statuses)
    assert by_name["role-install-failure"].rc != 0
    assert all(run.rc in (0, 2, 4) for _name, run in runs), [(n, r.rc) for n, r in runs]


def test_no_password_appears_in_any_output_log_or_file(secrets_lab):
    lab, outputs, _runs, inputs = secrets_lab
    # The search finds a secret where one is (the inputs, and the lab's own password file).
    inputs_text = "".join(p.read_text() for p in inputs.iterdir()) + (lab.state_dir / "password").read_text()
    assert all(secret in inputs_text for secret in SECRETS.values())
    files = [p for p in outputs.rglob("*") if p.is_file()]
    files += [p for p in lab.state_dir.rglob("*") if p.is_file() and p.name not in BY_DESIGN]
    searched = {p.name for p in files}
    assert {"ansible.log", "cmlab.log", "modules-apply.md", "role-plan.md", "modules-apply.stdout"} <= searched
    found = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for what, secret in SECRETS.items():
            for form in (secret, json.dumps(secret)[1:-1]):
                if form in text:
                    found.append(f"{what} in {path.relative_to(path.parents[1])}")
    assert found == []
    # Each output file is the whole run at -vvvvvv, so an empty grep means something.
    assert (outputs / "ansible.log").stat().st_size > 100_000
