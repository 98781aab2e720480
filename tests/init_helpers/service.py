"""A service for tests/manager.rs, started by a manager built on baremsg: it speaks
sd_notify(3) to NOTIFY_SOCKET by hand (Python's socket module, not baremsg), in the mode
argv[1] names.

    ready       READY=1, then waits to be stopped
    never       never notifies; waits to be stopped
    exit3       exits with 3 before notifying
    watchdog    checks WATCHDOG_USEC=300000 and WATCHDOG_PID (its own pid), sends READY=1,
                two WATCHDOG=1, then nothing more (the watchdog is missed)
    store       stores two memfds (FDSTORE=1, FDNAME=a and b), removes a
                (FDSTOREREMOVE=1), READY=1, exits 0
    restored    READY=1 with STATUS=<LISTEN_FDS>:<LISTEN_FDNAMES>:<fd 3's contents>,
                checking LISTEN_PID, exits 0
    barrier     BARRIER=1 with a pipe's write end, waits for the manager to close it,
                then READY=1 with STATUS=barrier-passed (or barrier-timeout)
"""
import os
import select
import socket
import sys
import time

addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.connect(addr)


def send(msg, fds=()):
    if fds:
        socket.send_fds(sock, [msg.encode()], list(fds))
    else:
        sock.send(msg.encode())


def wait_to_be_stopped():
    while True:
        time.sleep(60)


def memfd(text):
    fd = os.memfd_create("stored")
    os.write(fd, text.encode())
    return fd


mode = sys.argv[1]
if mode == "ready":
    send("READY=1\nSTATUS=up")
    wait_to_be_stopped()
elif mode == "never":
    wait_to_be_stopped()
elif mode == "exit3":
    sys.exit(3)
elif mode == "watchdog":
    assert int(os.environ["WATCHDOG_USEC"]) == 300000, os.environ["WATCHDOG_USEC"]
    assert int(os.environ["WATCHDOG_PID"]) == os.getpid(), os.environ["WATCHDOG_PID"]
    send("READY=1")
    send("WATCHDOG=1")
    send("WATCHDOG=1")
    wait_to_be_stopped()
elif mode == "store":
    a, b = memfd("alpha"), memfd("beta")
    send("FDSTORE=1\nFDNAME=a", [a])
    send("FDSTORE=1\nFDNAME=b", [b])
    send("FDSTOREREMOVE=1\nFDNAME=a")
    send("READY=1")
elif mode == "restored":
    assert int(os.environ["LISTEN_PID"]) == os.getpid()
    text = os.pread(3, 100, 0).decode()
    status = ":".join([os.environ["LISTEN_FDS"], os.environ["LISTEN_FDNAMES"], text])
    send("READY=1\nSTATUS=" + status)
elif mode == "barrier":
    r, w = os.pipe()
    send("BARRIER=1", [w])
    os.close(w)
    p = select.poll()
    p.register(r, select.POLLHUP)
    passed = bool(p.poll(20000))
    send("READY=1\nSTATUS=" + ("barrier-passed" if passed else "barrier-timeout"))
    wait_to_be_stopped()
else:
    sys.exit("unknown mode " + mode)
