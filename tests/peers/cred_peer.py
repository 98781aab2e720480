#!/usr/bin/env python3
"""Exchanges SCM_CREDENTIALS with baremsg using the standard library's socket module.

    cred_peer.py send ABSTRACT_HEX PAYLOAD
        From an unbound SOCK_DGRAM socket, sends PAYLOAD with an explicit
        SCM_CREDENTIALS message holding this process's pid, uid and gid to the
        abstract address whose name is ABSTRACT_HEX (hex, without the leading NUL).
        Prints "pid", "uid", "gid" (decimal) and "addr" (this socket's own address
        after the send, hex, empty when unnamed).

    cred_peer.py recv FD COUNT
        On the inherited socket FD: sets SO_PASSCRED, sends one byte b"R" to say so,
        then receives COUNT messages and prints, for message i, "payload<i>" (hex) and
        "cred<i>" as "pid uid gid" (or "none"), and "flags<i>".
"""

import os
import socket
import struct
import sys

TIMEOUT = 10.0
UCRED = struct.Struct("iII")


def send(name_hex, payload):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    cred = UCRED.pack(os.getpid(), os.getuid(), os.getgid())
    addr = b"\0" + bytes.fromhex(name_hex)
    sent = sock.sendmsg(
        [payload.encode()], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, cred)], 0, addr
    )
    assert sent == len(payload), (sent, len(payload))
    own = sock.getsockname()
    if isinstance(own, str):
        own = own.encode()
    print("pid", os.getpid())
    print("uid", os.getuid())
    print("gid", os.getgid())
    print("addr", own.hex())


def recv(fd_arg, count):
    sock = socket.socket(fileno=int(fd_arg))
    sock.settimeout(TIMEOUT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.send(b"R")
    for i in range(count):
        msg, ancdata, flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(UCRED.size))
        cred = "none"
        for level, ty, data in ancdata:
            if level == socket.SOL_SOCKET and ty == socket.SCM_CREDENTIALS:
                cred = "%d %d %d" % UCRED.unpack(data[: UCRED.size])
        print(f"payload{i}", msg.hex())
        print(f"cred{i}", cred)
        print(f"flags{i}", flags)


def main():
    mode = sys.argv[1]
    if mode == "send":
        send(sys.argv[2], sys.argv[3])
    elif mode == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
