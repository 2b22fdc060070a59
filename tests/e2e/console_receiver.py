#!/usr/bin/env python3
# The --console-socket peer (what containerd's shim does): receives the pty master over
# SCM_RIGHTS, then types lines into it and waits for expected text, with deadlines.
#
# console_receiver.py SOCKET OUT [SEND EXPECT]...
#   SOCKET  the Unix socket to listen on (created here, removed at the end)
#   OUT     written at the end: line 1 the name sent with the fd, then all output read
#   SEND    a line typed into the terminal ("" types nothing); EXPECT text awaited after it
# After the last step it reads on until the container side closes the terminal (or 30 s),
# so a container's terminal stays open as long as the receiver runs.
# Exits 0 when every EXPECT was seen, 1 on a timeout or a protocol error (details in OUT).
import array
import os
import select
import socket
import sys
import time

ACCEPT_TIMEOUT = 120.0  # create boots a VM first
EXPECT_TIMEOUT = 30.0
# After the last step: until every slave fd is closed (EIO); RECEIVER_DRAIN_S overrides.
DRAIN_TIMEOUT = float(os.environ.get("RECEIVER_DRAIN_S", "30"))


def receive_master(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(ACCEPT_TIMEOUT)
    conn, _ = srv.accept()
    srv.close()
    conn.settimeout(10.0)
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    conn.close()
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if len(fds) != 1:
        raise RuntimeError(f"expected one fd with the message, got {len(fds)}")
    return msg.decode(errors="replace"), fds[0]


def read_until(fd, seen, text, deadline):
    while text not in seen[0]:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every slave fd is closed
            return False
        if not chunk:
            return False
        seen[0] += chunk.decode(errors="replace")
    return True


def drain(fd, seen, deadline):
    # Keeps the master open until the container side hangs up, so the last typed line is
    # read before the terminal goes away.
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        seen[0] += chunk.decode(errors="replace")


def main():
    path, out = sys.argv[1], sys.argv[2]
    steps = sys.argv[3:]
    if len(steps) % 2:
        sys.exit("SEND and EXPECT come in pairs")
    seen = [""]
    name = ""
    ok = True
    try:
        name, master = receive_master(path)
        for i in range(0, len(steps), 2):
            send, expect = steps[i], steps[i + 1]
            if send:
                os.write(master, (send + "\n").encode())
            if not read_until(master, seen, expect, time.monotonic() + EXPECT_TIMEOUT):
                seen[0] += f"\n[receiver: timed out waiting for {expect!r}]"
                ok = False
                break
        drain(master, seen, time.monotonic() + DRAIN_TIMEOUT)
        os.close(master)
    except Exception as e:  # reported in OUT, which the test prints
        seen[0] += f"\n[receiver: {e}]"
        ok = False
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    with open(out, "w") as f:
        f.write(name + "\n" + seen[0])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
