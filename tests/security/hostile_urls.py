"""Hostile URL spellings and the listeners that must never hear from golive.

Every spelling points at a non-public address; those that can carry a port carry the listeners'
port, so a guard that let one through would show as a connection on a real socket."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

LISTEN_ADDRESSES = [("127.0.0.1", socket.AF_INET), ("127.0.0.2", socket.AF_INET), ("::1", socket.AF_INET6)]


def corpus(port: int) -> list[str]:
    p = port
    host_name = socket.gethostname()  # /etc/hosts maps it to a loopback address (asserted by the test)
    return [
        # plain loopback, every family
        f"http://127.0.0.1:{p}/",
        f"http://127.0.0.2:{p}/",
        f"http://[::1]:{p}/",
        f"https://127.0.0.1:{p}/",
        f"http://127.0.0.1.:{p}/",
        f"http://{host_name}:{p}/",
        # localhost, however written
        f"http://localhost:{p}/",
        f"http://LOCALHOST:{p}/",
        f"http://localhost.:{p}/",
        f"http://LocalHost.:{p}/",
        f"http://api.localhost:{p}/",
        f"http://localhost.localdomain:{p}/",
        f"HTTP://LOCALHOST:{p}/",
        # integer, octal, hex and short IPv4
        f"http://2130706433:{p}/",
        f"http://2130706434:{p}/",
        f"http://017700000001:{p}/",
        f"http://0177.0.0.1:{p}/",
        f"http://0177.0.0.02:{p}/",
        f"http://0x7f.0.0.1:{p}/",
        f"http://0x7f000001:{p}/",
        f"http://0x7F.0x00.0x00.0x01:{p}/",
        f"http://127.1:{p}/",
        f"http://127.0.1:{p}/",
        f"http://127.000.000.001:{p}/",
        f"http://0x7f.1:{p}/",
        # unspecified: a connect to 0.0.0.0 or :: lands on this machine
        f"http://0:{p}/",
        f"http://0.0.0.0:{p}/",
        f"http://[::]:{p}/",
        # IPv6 forms embedding loopback
        f"http://[::ffff:127.0.0.1]:{p}/",
        f"http://[::ffff:7f00:1]:{p}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/",
        f"http://[::127.0.0.1]:{p}/",
        f"http://[0:0:0:0:0:0:0:1]:{p}/",
        f"http://[0000::0001]:{p}/",
        f"http://[::1%25lo]:{p}/",
        f"http://[64:ff9b::7f00:1]:{p}/",
        f"http://[2002:7f00:1::]:{p}/",
        # unicode dots and full-width digits (IDNA maps them to ASCII)
        f"http://127\u30020\u30020\u30021:{p}/",
        f"http://127\uff0e0\uff0e0\uff0e1:{p}/",
        f"http://127\uff610\uff610\uff611:{p}/",
        f"http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{p}/",
        f"http://localhost\u3002:{p}/",
        # percent escapes in the host
        f"http://%31%32%37.0.0.1:{p}/",
        f"http://%6c%6f%63%61%6c%68%6f%73%74:{p}/",
        # userinfo tricks
        f"http://user@127.0.0.1:{p}/",
        f"http://user:password@127.0.0.1:{p}/",
        f"http://example.com@127.0.0.1:{p}/",
        f"http://example.com:80@127.0.0.1:{p}/",
        f"http://127.0.0.1:{p}@example.com/",
        f"http://@127.0.0.1:{p}/",
        # backslashes (browsers read them as slashes)
        f"http://example.com\\@127.0.0.1:{p}/",
        f"http://127.0.0.1:{p}\\@example.com/",
        f"http://127.0.0.1:{p}\\.example.com/",
        # fragment and query tricks keep the host
        f"http://127.0.0.1:{p}/#@example.com",
        f"http://127.0.0.1:{p}?@example.com/",
        # private, link-local, metadata, CGNAT, multicast, broadcast
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[ff02::1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://255.255.255.255/",
        # other schemes
        f"ftp://127.0.0.1:{p}/",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{p}/_",
    ]


@dataclass
class Listeners:
    """Real sockets on 127.0.0.1, 127.0.0.2 and [::1], one port, counting every connection."""

    port: int
    connections: dict[str, int] = field(default_factory=dict)
    _sockets: list[socket.socket] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.connections.values())

    def _serve(self, sock: socket.socket, address: str) -> None:
        while True:
            try:
                connection, _ = sock.accept()
            except OSError:
                return  # closed at teardown
            self.connections[address] += 1
            with contextlib.suppress(OSError):
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            connection.close()


def _bind_all(port: int) -> list[socket.socket]:
    sockets = []
    try:
        for address, family in LISTEN_ADDRESSES:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((address, port))
            sock.listen(64)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@contextlib.contextmanager
def listening() -> Iterator[Listeners]:
    for _ in range(20):  # the first socket picks a free port; the others may find it taken
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        try:
            sockets = _bind_all(port)
            break
        except OSError:
            continue
    else:
        raise RuntimeError("no port free on 127.0.0.1, 127.0.0.2 and ::1 at once")
    listeners = Listeners(port, {address: 0 for address, _ in LISTEN_ADDRESSES}, sockets)
    for sock, (address, _) in zip(sockets, LISTEN_ADDRESSES, strict=True):
        threading.Thread(target=listeners._serve, args=(sock, address), daemon=True).start()
    try:
        yield listeners
    finally:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
