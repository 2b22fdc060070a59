#!/usr/bin/env python3
"""Peer side (namespace B) of the broker's virtio-net QEMU test: 'echo PORT' echoes one
TCP connection until EOF; 'fetch HOST PORT OUT' connects (retrying until the guest
listens) and stores what the guest sends."""
import socket, sys, time

def echo(port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    s.listen(1)
    s.settimeout(timeout)
    c, _ = s.accept()
    c.settimeout(30)
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    c.close()

def fetch(host, port, out, timeout):
    deadline = time.time() + timeout
    while True:
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(30)
        try:
            c.connect((host, port))
            break
        except OSError:
            c.close()
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    with open(out, 'wb') as f:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)

if __name__ == '__main__':
    if sys.argv[1] == 'echo':
        echo(int(sys.argv[2]), 150)
    else:
        fetch(sys.argv[2], int(sys.argv[3]), sys.argv[4], 150)
