"""WinRM message encryption over HTTP (MS-WSMV 2.2.9.1.1, "HTTP-SPNEGO-session-encrypted").

Byte-exact framing, identical in both directions (reference doc §2.3):

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext length>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <uint32 LE signature length><signature><sealed payload>--Encrypted Boundary--\\r\\n
"""

from __future__ import annotations

import re
import struct
from typing import Protocol

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
# pypsrp requires the "multipart/encrypted;" prefix and a quoted boundary.
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'

_BOUNDARY = b"--Encrypted Boundary"
_PART_HEADER = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


class EncryptionError(Exception):
    pass


class _WrapResult(Protocol):
    header: bytes
    data: bytes


class SessionSecurity(Protocol):
    """The part of a completed pyspnego context used here."""

    def wrap_winrm(self, data: bytes) -> _WrapResult: ...

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes: ...


def is_encrypted(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.lower().startswith("multipart/encrypted") and PROTOCOL.lower() in content_type.lower()


def encrypt(ctx: SessionSecurity, plaintext: bytes) -> bytes:
    wrapped = ctx.wrap_winrm(plaintext)
    return b"".join(
        [
            _BOUNDARY,
            b"\r\n",
            b"\tContent-Type: ",
            PROTOCOL.encode(),
            b"\r\n",
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=",
            str(len(plaintext)).encode(),
            b"\r\n",
            _BOUNDARY,
            b"\r\n",
            _PART_HEADER,
            struct.pack("<I", len(wrapped.header)),
            wrapped.header,
            wrapped.data,
            _BOUNDARY,
            b"--\r\n",
        ]
    )


def decrypt(ctx: SessionSecurity, body: bytes) -> bytes:
    """Every (header part, payload part) pair in order; the sealing state advances per message,
    so callers must decrypt a connection's requests in arrival order."""
    if body.endswith(_BOUNDARY + b"--\r\n"):
        body = body[: -len(_BOUNDARY) - 4]
    parts = [p for p in body.split(_BOUNDARY + b"\r\n") if p]
    if not parts or len(parts) % 2:
        raise EncryptionError("malformed multipart/encrypted body")
    plaintext = bytearray()
    for header, payload in zip(parts[0::2], parts[1::2], strict=True):
        match = _LENGTH.search(header)
        if match is None:
            raise EncryptionError("no OriginalContent Length")
        if not payload.startswith(_PART_HEADER):
            raise EncryptionError("no application/octet-stream part")
        payload = payload[len(_PART_HEADER) :]
        if len(payload) < 4:
            raise EncryptionError("truncated encrypted payload")
        (sig_len,) = struct.unpack("<I", payload[:4])
        signature, sealed = payload[4 : 4 + sig_len], payload[4 + sig_len :]
        try:
            message = ctx.unwrap_winrm(signature, sealed)
        except Exception as exc:  # pyspnego raises several types for a bad signature
            raise EncryptionError(f"cannot unwrap: {type(exc).__name__}") from exc
        if len(message) != int(match.group(1)):
            raise EncryptionError("decrypted length does not match OriginalContent Length")
        plaintext += message
    return bytes(plaintext)
