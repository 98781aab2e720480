#!/usr/bin/env python3
"""Services for tests/init.rs, run under baremsg-init. Each speaks the notify protocol
itself (a datagram to $NOTIFY_SOCKET, fds with SCM_RIGHTS): no libsystemd.

service.py send MESSAGE             send MESSAGE, exit 0
service.py send-and-sleep MESSAGE   send MESSAGE, then sleep until killed
service.py fdstore N                serve N requests on the socket named "web", then crash
service.py watchdog LOG             READY=1, three WATCHDOG=1, then silence
service.py leak DIR                 one generation of the restart-leak test
service.py kinds                    the kind and name of each activated socket, to ./kinds
service.py garbage                  a flood of bad notifications (a pipe's ends among
                                    them, its inode in ./sent), then READY=1
"""

import array
import os
import socket
import sys
import time


def notify(msg, fds=()):
    addr = os.environ["NOTIFY_SOCKET"]
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    anc = []
    if fds:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
    s.sendmsg([msg.encode()], anc, 0, addr)
    s.close()


def listen_fds():
    """The activation fds by name, checked as sd_listen_fds does."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return {}
    n = int(os.environ["LISTEN_FDS"])
    names = os.environ.get("LISTEN_FDNAMES", "").split(":")
    assert len(names) == n, (names, n)
    return {name: 3 + i for i, name in enumerate(names)}


def sleep_forever():
    while True:
        time.sleep(3600)


def fdstore(requests):
    fds = listen_fds()
    web = socket.socket(fileno=fds["web"])
    if "counter" in fds:
        counter = fds["counter"]
        gen = int(os.pread(counter, 8, 0)) + 1
    else:
        counter = os.memfd_create("counter")
        gen = 1
    os.pwrite(counter, b"%08d" % gen, 0)
    if gen == 1:
        notify("FDSTORE=1\nFDNAME=counter", [counter])
    notify("READY=1\nSTATUS=generation %d" % gen)
    ino = os.fstat(web.fileno()).st_ino
    for i in range(requests):
        conn, _ = web.accept()
        conn.sendall(b"gen=%d ino=%d req=%d\n" % (gen, ino, i + 1))
        conn.close()
    os._exit(3)  # a crash: the init restarts it


def watchdog(log):
    usec = int(os.environ["WATCHDOG_USEC"])
    with open(log, "a") as f:
        f.write("pid=%d WATCHDOG_USEC=%d\n" % (os.getpid(), usec))
    notify("READY=1")
    for _ in range(3):
        time.sleep(usec / 4e6)
        notify("WATCHDOG=1")
    sleep_forever()


def leak(d):
    with open(os.path.join(d, "count"), "a") as f:
        f.write("x\n")
    with open(os.path.join(d, "count")) as f:
        gen = len(f.readlines())
    if gen in (2, 101):
        # What the init (PID 1 here) holds as this generation starts: after 1 restart,
        # and after 100.
        fds = sorted(
            (int(n), os.readlink("/proc/1/fd/" + n)) for n in os.listdir("/proc/1/fd")
        )
        with open(os.path.join(d, "fds.%d" % gen), "w") as f:
            f.write("".join("%d %s\n" % fd for fd in fds))
    if gen >= 101:
        notify("READY=1")
        sleep_forever()
    # Everything the init must clean up after: a stored fd replaced, fds sent without
    # FDSTORE=1, a malformed message, a garbage datagram.
    mem = os.memfd_create("gen")
    notify("FDSTOREREMOVE=1\nFDNAME=mem")
    notify("FDSTORE=1\nFDNAME=mem", [mem])
    r, w = os.pipe()
    notify("STATUS=unasked fds", [r, w])
    notify("no equals sign")
    notify("READY=1")
    os._exit(1)


def kinds():
    kinds = {socket.SOCK_STREAM: "stream", socket.SOCK_SEQPACKET: "seqpacket",
             socket.SOCK_DGRAM: "datagram"}
    with open("kinds", "w") as f:
        for name, fd in sorted(listen_fds().items(), key=lambda kv: kv[1]):
            s = socket.socket(fileno=fd)
            listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            f.write("%d %s %s %s %d\n" % (fd, name, kinds[s.type], s.getsockname(), listening))
            s.detach()


def garbage():
    r, w = os.pipe()
    with open("sent", "w") as f:
        f.write("pipe:[%d]\n" % os.fstat(r).st_ino)
    for i in range(300):
        notify("no equals sign %d" % i)
        notify("\x00\xff binary\n=")
        notify("X" * 5000)  # longer than the init's 4096-byte buffer
        notify("STATUS=unasked", [r, w, r, w])
        notify("FDSTORE=1\nFDNAME=bad:name", [r])
        notify("FDSTOREREMOVE=1")
    notify("READY=1\nSTATUS=still here")
    sleep_forever()


def main():
    cmd = sys.argv[1]
    if cmd == "send":
        notify(sys.argv[2])
    elif cmd == "send-and-sleep":
        notify(sys.argv[2])
        sleep_forever()
    elif cmd == "fdstore":
        fdstore(int(sys.argv[2]))
    elif cmd == "watchdog":
        watchdog(sys.argv[2])
    elif cmd == "leak":
        leak(sys.argv[2])
    elif cmd == "kinds":
        kinds()
    elif cmd == "garbage":
        garbage()
    else:
        sys.exit("unknown command " + cmd)


main()
