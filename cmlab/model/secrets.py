"""Passwords are never stored in clear: a salted fingerprint is enough to check one."""

from __future__ import annotations

import hashlib
import hmac
import os


class PasswordFingerprint:
    __slots__ = ("_digest", "_salt")

    def __init__(self, password: str) -> None:
        self._salt = os.urandom(16)
        self._digest = self._hash(self._salt, password)

    @staticmethod
    def _hash(salt: bytes, password: str) -> bytes:
        return hashlib.sha256(salt + password.encode("utf-8")).digest()

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(self._digest, self._hash(self._salt, password))

    def __repr__(self) -> str:
        return "PasswordFingerprint(<hidden>)"
