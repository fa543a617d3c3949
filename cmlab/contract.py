"""The collection's side of the contract, as cmlab imports it: the plan protocol, the cmdlet catalog
and the PowerShell engine file.

They live in the collection (plugins/plugin_utils/_protocol.py, _catalog.py, cmdlet_catalog.json,
plugins/module_utils/cmscp_engine.ps1) and are installed with cmlab as the packages
``cmscp_plugin_utils`` and ``cmscp_module_utils`` (pyproject.toml; docs/cmlab.md "Installing
cmlab"). Imported as packages, never loaded by path, so cmlab and the collection cannot read two
different copies of one file.
"""

from __future__ import annotations

from pathlib import Path

try:
    import cmscp_module_utils
    from cmscp_plugin_utils import _catalog as catalog
    from cmscp_plugin_utils import _protocol as protocol
except ModuleNotFoundError as e:  # pragma: no cover - a setup problem, said plainly
    raise ModuleNotFoundError(
        f"{e}. cmlab needs the collection's plugin_utils and module_utils as the packages cmscp_plugin_utils and "
        "cmscp_module_utils: install cmlab with pip from the repository ('pip install -e .' in a checkout, as "
        "'make setup' does; see docs/cmlab.md 'Installing cmlab')."
    ) from e

ENGINE_FILE = Path(next(iter(cmscp_module_utils.__path__))) / "cmscp_engine.ps1"
CATALOG_FILE = Path(catalog.CATALOG_FILE)

__all__ = ["CATALOG_FILE", "ENGINE_FILE", "catalog", "protocol"]
