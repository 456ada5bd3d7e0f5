"""Loaded by every Python process whose PYTHONPATH starts with this folder:
refuses every network connection except loopback, so a test can prove that a
command works offline (and fails clearly where it needs the network)."""

import ipaddress
import socket

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guard(self, address):
    if not _loopback(address):
        raise OSError(101, f"network blocked by test (tried {address!r})")
    return _connect(self, address)


def _guard_ex(self, address):
    if not _loopback(address):
        return 101
    return _connect_ex(self, address)


_getaddrinfo = socket.getaddrinfo


def _resolve(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1", "0.0.0.0") and not str(host).startswith("127."):
        raise socket.gaierror(-3, f"name resolution blocked by test ({host})")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guard
socket.socket.connect_ex = _guard_ex
socket.getaddrinfo = _resolve
