"""A socket-activated service written with Python's standard library only: it checks
what a manager passed and writes a report.

Usage: activated.py REPORT_PATH
Writes to REPORT_PATH, one line each:

    pid <os.getpid()>
    env <LISTEN_PID> <LISTEN_FDS> <LISTEN_FDNAMES or ->
    fd <n> <family> <type> <listening 0/1> <inheritable 0/1> <address>

where address is a path, @name (abstract), or - (unnamed, or not a Unix socket).
"""
import os
import socket
import sys

out = []
out.append("pid %d" % os.getpid())
env = os.environ
out.append("env %s %s %s" % (env.get("LISTEN_PID", "-"), env.get("LISTEN_FDS", "-"),
                             env.get("LISTEN_FDNAMES", "-")))
for fd in range(3, 3 + int(env.get("LISTEN_FDS", "0"))):
    s = socket.socket(fileno=fd)
    try:
        listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        addr = "-"
        if s.family == socket.AF_UNIX:
            name = s.getsockname()
            if isinstance(name, bytes):
                addr = "@" + name[1:].decode() if name else "-"
            else:
                addr = name or "-"
        out.append("fd %d %d %d %d %d %s" % (fd, s.family, s.type, listening,
                                            os.get_inheritable(fd), addr))
    finally:
        s.detach()
with open(sys.argv[1], "w") as f:
    f.write("\n".join(out) + "\n")
