"""A TCP proxy on 127.0.0.1 that adds a fixed latency to each direction.

Every chunk read from one side is delivered to the other side `delay` seconds after it
arrived (order kept), so a request/response exchange costs 2 × delay more: a stand-in for
a PDS that is a network round trip away. Runs its own asyncio loop in a daemon thread.

    with LatencyProxy("127.0.0.1", pds_port, delay=0.05) as proxy:
        ...  # connect to 127.0.0.1:proxy.port

Bounded: it listens on 127.0.0.1 only, forwards to 127.0.0.1 only, and closes connections
beyond `max_connections` open at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from types import TracebackType


class LatencyProxy:
    """Forward 127.0.0.1:<port> to target_host:target_port with `delay` s each way."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        delay: float = 0.05,
        port: int = 0,
        max_connections: int = 64,
    ) -> None:
        if target_host not in ("127.0.0.1", "localhost"):
            raise ValueError("the latency proxy forwards to this machine only")
        self.target_host = target_host
        self.target_port = target_port
        self.delay = delay
        #: The port to listen on (0: any free one); the one chosen once started.
        self.port = port
        self.max_connections = max_connections
        self.connections = 0
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def __enter__(self) -> LatencyProxy:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("latency proxy did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._open >= self.max_connections:
            client_w.close()
            return
        self._open += 1
        try:
            try:
                upstream_r, upstream_w = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                client_w.close()
                return
            await asyncio.gather(
                self._pipe(client_r, upstream_w),
                self._pipe(upstream_r, client_w),
                return_exceptions=True,
            )
        finally:
            self._open -= 1

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while True:
                chunk = await reader.read(65536)
                await queue.put((time.monotonic() + self.delay, chunk))
                if not chunk:
                    break
            await sender
        except (OSError, asyncio.CancelledError):
            sender.cancel()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
