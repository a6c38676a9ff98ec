"""The fast local probe target: `python -m bench.target PORT` answers every request 200 "ok".

A raw asyncio protocol with keep-alive, so the target costs as little of the two cores as
possible and the probe benchmark measures the worker, not the server. It stops when its parent
(the benchmark) goes away."""

from __future__ import annotations

import asyncio
import os
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.pending = transport, b""

    def data_received(self, data: bytes) -> None:
        # Probes send bodiless GETs: one answer per blank line that ends a request's headers.
        self.pending += data
        count = self.pending.count(b"\r\n\r\n")
        if count:
            self.pending = self.pending[self.pending.rindex(b"\r\n\r\n") + 4 :]
            self.transport.write(ANSWER * count)


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", port, backlog=1024)
    print(f"target ready on {port}", flush=True)
    parent = os.getppid()
    async with server:
        while os.getppid() == parent:  # the benchmark died: stop too
            await asyncio.sleep(1)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
