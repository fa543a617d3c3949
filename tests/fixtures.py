"""What every test tier shares: the test passwords and the plan-step builder of the engine tests.

One module, so that a test never invents its own password (the secrets suite greps outputs for these
values) and the engine tests build steps exactly as the runner's ``Step.to_payload`` does.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The password of every lab a test builds or starts (the in-process models, cmlab.Lab, the WinRM listeners of
# tests/cmlab). It holds ':' (NTLM user file, Basic auth) and '!' on purpose.
LAB_PASSWORD = "Lab:Test-Pass-1!"

# Secrets the integration suites hand to modules; each is unique, so a grep for it finds only a leak.
ACCOUNT_PASSWORD = "Acct-S3cret-7d1f!"  # cm_account, the role's installation account
PROXY_ACCOUNT_PASSWORD = "Proxy-S3cret-4b9e!"  # the role's proxy account
PROVIDER_PASSWORD = "Prov-S3cret-2c8a!"  # provider_password of a remote SMS Provider
PLAN_PASSWORD = "Plan-S3cret-Pw!"  # the plan_summary tests
ENDPOINT_PROXY_PASSWORD = "EpProxy-S3cret-6f3d!"  # endpoint_check's proxy_password, a wrong one (the proxy says 407)

_CATALOG = None


def _lab_catalog():
    """Every cmdlet cmlab simulates, also those no plan uses yet (tools/build_catalog.py writes it)."""
    global _CATALOG
    if _CATALOG is None:
        from cmlab.engine import load_catalog

        _CATALOG = load_catalog(str(REPO / "tests" / "cmlab" / "lab_catalog.json"))
    return _CATALOG


def step(sid: str, cmdlet: str, select=None, on_error: str = "stop", **params) -> dict:
    """A plan step as the payload carries it (docs/engine-protocol.md section 2), with its provider kind."""
    return {
        "id": sid,
        "cmdlet": cmdlet,
        "provider": _lab_catalog().provider_kind(cmdlet, params),
        "params": params,
        "select": select,
        "on_error": on_error,
    }
