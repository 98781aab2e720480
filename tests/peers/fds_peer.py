#!/usr/bin/env python3
"""Passes fds to and from baremsg with the standard library's socket.send_fds and
socket.recv_fds (Python 3.9+), over a Unix stream socket.

    fds_peer.py send SOCKET TAG
        Sends two messages on SOCKET: an inherited fd number, or else the filesystem
        path of a listening socket to connect to. Message i (0, 1) carries the payload
        b"TAG-payload-i" and two fds: the read end of a pipe holding b"TAG-pipe-i"
        (write end closed, so the reader sees end of file after it) and an unlinked
        temporary file holding b"TAG-file-i", positioned at its start.

    fds_peer.py gather SOCKET TAG
        Sends one message gathered from three buffers, b"TAG-head", b"|" and
        b"TAG-tail", with no control data.

    fds_peer.py recv SOCKET REPLY
        Receives one message with up to 8 fds. Expects, in order: the read end of a
        pipe (read to end of file), a regular file or memfd (read from offset 0 with
        pread), the write end of a pipe (REPLY is written to it). Prints what it saw,
        one "key hex-value" line each.
"""

import os
import socket
import sys
import tempfile

TIMEOUT = 10.0


def open_socket(arg):
    if arg.isdigit():
        sock = socket.socket(fileno=int(arg))
        sock.settimeout(TIMEOUT)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(arg)
    return sock


def read_to_eof(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def send(sock, tag):
    for i in range(2):
        r, w = os.pipe()
        os.write(w, f"{tag}-pipe-{i}".encode())
        os.close(w)
        tmp = tempfile.TemporaryFile()
        tmp.write(f"{tag}-file-{i}".encode())
        tmp.flush()
        tmp.seek(0)
        payload = f"{tag}-payload-{i}".encode()
        sent = socket.send_fds(sock, [payload], [r, tmp.fileno()])
        assert sent == len(payload), (sent, len(payload))
        # Fds in flight hold their own references: closing ours now is fine.
        os.close(r)
        tmp.close()


def gather(sock, tag):
    parts = [f"{tag}-head".encode(), b"|", f"{tag}-tail".encode()]
    sent = sock.sendmsg(parts)
    assert sent == sum(map(len, parts)), sent


def recv(sock, reply):
    msg, fds, flags, _addr = socket.recv_fds(sock, 4096, 8)
    print("payload", msg.hex())
    print("nfds", len(fds))
    print("flags", flags)
    if len(fds) != 3:
        sys.exit(f"expected 3 fds, got {len(fds)}")
    print("fd0", read_to_eof(fds[0]).hex())
    print("fd1", os.pread(fds[1], 4096, 0).hex())
    os.write(fds[2], reply.encode())
    for fd in fds:
        os.close(fd)


def main():
    mode, sock_arg, text = sys.argv[1:4]
    sock = open_socket(sock_arg)
    if mode == "send":
        send(sock, text)
    elif mode == "gather":
        gather(sock, text)
    elif mode == "recv":
        recv(sock, text)
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
