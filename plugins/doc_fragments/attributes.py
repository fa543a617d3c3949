# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every module of the collection shares: an action plugin on the controller, no async, one
    # host at a time, Windows targets. check_mode and diff_mode differ per module and stay in its docs.
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: windows
"""
