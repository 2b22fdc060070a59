#!/usr/bin/env python3
"""Host side of the broker's QEMU test: 'serve UDS_P OUT' receives one guest stream into
OUT; 'send UDS PORT FILE' connects through the hybrid-vsock handshake and sends FILE."""
import socket, sys, time

def serve(path, out, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    s.settimeout(timeout)
    c, _ = s.accept()
    c.settimeout(timeout)
    with open(out, 'wb') as f:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)
    c.close()
    s.close()

def send(path, port, data_file, timeout):
    deadline = time.time() + timeout
    while True:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(5)
        try:
            c.connect(path)
            c.sendall(b'CONNECT %d\n' % port)
            line = b''
            while not line.endswith(b'\n'):
                b = c.recv(1)
                if not b:
                    break
                line += b
            if line.startswith(b'OK '):
                break
        except OSError:
            pass
        c.close()
        if time.time() > deadline:
            sys.exit('no OK from the guest listener')
        time.sleep(0.3)
    c.settimeout(timeout)
    with open(data_file, 'rb') as f:
        c.sendall(f.read())
    c.shutdown(socket.SHUT_WR)
    while c.recv(4096):
        pass
    c.close()

if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(sys.argv[2], sys.argv[3], 150)
    else:
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], 150)
