"""A notification manager written with Python's standard socket module only.

Usage: notify_receiver.py ADDRESS COUNT
Binds a datagram socket at ADDRESS (a path, or @name for the abstract namespace) with
SO_PASSCRED, prints "ready", then receives COUNT messages and prints, per message:

    msg <payload hex> <pid> <uid> <gid> <flags> <n fds> [<fd contents hex> ...]

Received fds are read to end-of-file (they must be readable: pipes, memfds read from
offset 0), then closed, which also answers BARRIER=1; a pidfd is shown as
"pidfd:<the pid its /proc/self/fdinfo names>" instead.
"""
import array
import errno
import os
import socket
import stat
import struct
import sys



def pidfd_pid(fd):
    """The pid a pidfd refers to, or None if fd is not a pidfd."""
    with open("/proc/self/fdinfo/%d" % fd) as info:
        for line in info:
            if line.startswith("Pid:"):
                return line.split()[1]
    return None


def read_all(fd):
    """A file's contents from offset 0, or a pipe's until end-of-file."""
    seekable = stat.S_ISREG(os.fstat(fd).st_mode)
    chunks = []
    while True:
        if seekable:
            chunk = os.pread(fd, 4096, sum(map(len, chunks)))
        else:
            chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


addr, count = sys.argv[1], int(sys.argv[2])
if addr.startswith("@"):
    addr = "\0" + addr[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(addr)
sock.settimeout(20)
print("ready", flush=True)

for _ in range(count):
    data, ancdata, flags, _ = sock.recvmsg(8192, socket.CMSG_SPACE(64 * 4) + socket.CMSG_SPACE(12))
    pid = uid = gid = -1
    fds = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, uid, gid = struct.unpack("iII", payload[:12])
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            got = array.array("i")
            got.frombytes(payload[: len(payload) - len(payload) % 4])
            fds.extend(got)
    contents = []
    for fd in fds:
        try:
            pid_of = pidfd_pid(fd)
            if pid_of is not None:
                contents.append("pidfd:" + pid_of)
            else:
                contents.append(read_all(fd).hex() or "-")
        except OSError as e:
            contents.append("error:" + errno.errorcode.get(e.errno, str(e.errno)))
        finally:
            os.close(fd)
    print("msg", data.hex(), pid, uid, gid, flags, len(fds), *contents, flush=True)
