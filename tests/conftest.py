"""Test setup shared by every tier: the collection imports as ansible_collections.configmgr.scp."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".collections"

os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Ansible's own collection finder, as ansible.windows' unit tests use it, so plugin code imports
# exactly as it does when ansible-playbook loads it.
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_finder = _AnsibleCollectionFinder(paths=[str(COLLECTIONS)])
_finder._install()
