"""Keep query workers off the network, enforced by the kernel, not by the query text.

pyoxigraph fetches every ``SERVICE`` endpoint itself. The guard (``mqmkg.sparql.guard``)
judges the query text; this module is the second barrier, one the text cannot influence:

- a worker for queries that call no allow-listed endpoint moves itself into a new, empty
  network namespace (``unshare(CLONE_NEWNET)``, Linux) before it loads the store. Its
  loopback interface stays down, so nothing is reachable, not even 127.0.0.1: a SERVICE the
  guard missed fails with "Network is unreachable". Without the privilege for that (not
  root), it tries a user namespace first (``CLONE_NEWUSER | CLONE_NEWNET``);
- a worker for federated queries keeps the network, but Landlock (Linux 6.7+) limits its TCP
  connections to the ports of the allow-listed endpoints, so a guard mistake cannot reach a
  database, an admin port or this server's own port. (Landlock cannot filter by host; the
  guard alone keeps such a worker on the allow-listed hosts.)

Both must run while the worker is still single-threaded (namespaces and Landlock domains
apply to the calling thread and to threads it starts later). Each step is verified by
trying a connection; the outcome is reported, never assumed, and the pool refuses to start
(or, if so configured, warns loudly and shows it in ``/health``) when it does not hold.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
# Landlock system calls have the same numbers on every architecture (the generic table).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_NET_PORT = 2
LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Isolation:
    """What cuts a worker off: whether it may use the network, whether the kernel enforces
    the limit, and a sentence for ``/health`` and the log."""

    network: bool
    enforced: bool
    detail: str


class _RulesetAttr(ctypes.Structure):
    _fields_ = (("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64))


class _NetPortAttr(ctypes.Structure):
    _fields_ = (("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64))


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def _connect_errno(host: str, port: int) -> int:
    """Try a TCP connection; return 0 if it connected, else the errno it failed with."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        try:
            return sock.connect_ex((host, port))
        except OSError as exc:
            return exc.errno or -1


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _unshare_net(libc: ctypes.CDLL) -> str:
    """Enter a new network namespace; return how, or raise OSError."""
    if libc.unshare(CLONE_NEWNET) == 0:
        return "network namespace"
    first = ctypes.get_errno()
    if first != errno.EPERM:
        raise OSError(first, os.strerror(first))
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{os.strerror(code)} (unprivileged user namespaces are disabled?)")
    with contextlib.suppress(OSError):
        _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return "user and network namespace"


def cut_network() -> Isolation:
    """Move this (single-threaded) process into an empty network namespace; report the outcome."""
    if _threads() != 1:
        return Isolation(False, False, "not isolated: the worker already runs threads (namespaces are per thread)")
    try:
        how = _unshare_net(_libc())
    except (OSError, AttributeError) as exc:
        return Isolation(False, False, f"not isolated: cannot create a network namespace ({exc})")
    code = _connect_errno("127.0.0.1", 9)
    if code != errno.ENETUNREACH:
        return Isolation(False, False, f"not isolated: a {how} was created but loopback answers ({os.strerror(code)})")
    return Isolation(False, True, f"no network: own empty {how} (loopback down, every connection refused)")


def endpoint_ports(endpoints: Iterable[str]) -> tuple[int, ...]:
    """Return the TCP ports the allow-listed endpoints are reached on (80 and 443 by default)."""
    ports: set[int] = set()
    for endpoint in endpoints:
        parts = urlsplit(endpoint)
        with contextlib.suppress(ValueError):
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
            if port:
                ports.add(port)
    return tuple(sorted(ports))


def _landlock(libc: ctypes.CDLL, ports: tuple[int, ...]) -> None:
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"Landlock unavailable: {os.strerror(code)}")
    if abi < 4:
        raise OSError(errno.ENOTSUP, f"Landlock ABI {abi} cannot filter TCP connections (needs 4, Linux 6.7)")
    attr = _RulesetAttr(0, LANDLOCK_ACCESS_NET_CONNECT_TCP)
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0)
    if ruleset < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
    try:
        for port in ports:
            rule = _NetPortAttr(LANDLOCK_ACCESS_NET_CONNECT_TCP, port)
            if libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_NET_PORT, ctypes.byref(rule), 0) != 0:
                code = ctypes.get_errno()
                raise OSError(code, f"landlock_add_rule: {os.strerror(code)}")
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"PR_SET_NO_NEW_PRIVS: {os.strerror(code)}")
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")
    finally:
        os.close(ruleset)


def limit_connections(endpoints: tuple[str, ...]) -> Isolation:
    """Let this (single-threaded) process open TCP connections only to the endpoints' ports."""
    ports = endpoint_ports(endpoints)
    listing = ", ".join(map(str, ports)) or "none"
    if _threads() != 1:
        return Isolation(True, False, "not limited: the worker already runs threads (Landlock is per thread)")
    try:
        _landlock(_libc(), ports)
    except (OSError, AttributeError) as exc:
        return Isolation(True, False, f"not limited: {exc}")
    probe = next(p for p in (9, 7, 13, 19) if p not in ports)
    code = _connect_errno("127.0.0.1", probe)
    if code != errno.EACCES:
        return Isolation(True, False, f"not limited: Landlock set up but port {probe} gave {os.strerror(code)}")
    return Isolation(True, True, f"network limited by Landlock to TCP port(s) {listing} (the allow-listed endpoints)")
