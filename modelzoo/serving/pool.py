"""A werkzeug server whose requests run on a fixed pool of threads, each read within a deadline.

werkzeug is imported when a server is made (`make_http_server`), not when this module is.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

#: WSGI environ keys: a callable marking the request read, and one telling whether it timed out.
READ_DONE, TIMED_OUT = "modelzoo.read_done", "modelzoo.timed_out"


class Deadlines:
    """One thread that cuts off connections whose request has not been read by its deadline.

    A per-read socket timeout alone lets a client that sends a byte now and then hold a worker
    for ever; this bounds the whole read of headers and body.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._due: dict[Any, float] = {}
        self._expired: set = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="modelzoo-request-deadlines", daemon=True
        )
        self._thread.start()

    def arm(self, connection) -> None:
        with self._lock:
            self._due[connection] = time.monotonic() + self.seconds

    def disarm(self, connection) -> None:
        with self._lock:
            self._due.pop(connection, None)

    def forget(self, connection) -> None:
        with self._lock:
            self._due.pop(connection, None)
            self._expired.discard(connection)

    def expired(self, connection) -> bool:
        with self._lock:
            return connection in self._expired

    def _run(self) -> None:
        while not self._stop.wait(min(0.1, self.seconds / 4)):
            now = time.monotonic()
            with self._lock:
                late = [connection for connection, due in self._due.items() if due <= now]
                for connection in late:
                    del self._due[connection]
                    self._expired.add(connection)
            for connection in late:
                try:
                    connection.shutdown(
                        socket.SHUT_RD
                    )  # a blocked read returns at once; a reply can still be written
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()


def make_http_server(
    host: str, port: int, app, workers: int, request_timeout: float, max_pending: int
):
    """A werkzeug server whose requests run on a fixed pool of `workers` threads, each read within `request_timeout`."""
    deadlines = Deadlines(request_timeout)
    try:
        return _pooled_server_class()(
            host, port, app, _handler_class(), deadlines, workers, max_pending
        )
    except BaseException:
        deadlines.stop()
        raise


def _handler_class():
    """werkzeug's request handler, reading each request within its server's deadline."""
    from functools import partial

    from werkzeug.serving import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        def setup(self) -> None:
            # each socket operation; the deadline cuts a slow read off first
            self.timeout = self.server.deadlines.seconds + 5
            super().setup()
            self.server.deadlines.arm(self.connection)

        def make_environ(self) -> dict:
            environ = super().make_environ()
            environ[READ_DONE] = partial(self.server.deadlines.disarm, self.connection)
            environ[TIMED_OUT] = partial(self.server.deadlines.expired, self.connection)
            return environ

        def finish(self) -> None:
            self.server.deadlines.forget(self.connection)
            super().finish()

    return Handler


def _pooled_server_class():
    """werkzeug's server, answering on a fixed thread pool and refusing (503) past its backlog."""
    from concurrent.futures import ThreadPoolExecutor

    from werkzeug.serving import BaseWSGIServer

    class PooledServer(BaseWSGIServer):
        multithread = True

        def __init__(self, host, port, app, handler, deadlines, workers, max_pending) -> None:
            self.deadlines = deadlines
            self.pool = ThreadPoolExecutor(workers, thread_name_prefix="modelzoo-http")
            self.slots = threading.BoundedSemaphore(workers + max_pending)
            super().__init__(host, port, app, handler=handler)

        def process_request(self, request, client_address) -> None:
            if not self.slots.acquire(blocking=False):
                self.refuse(request)
                return
            try:
                self.pool.submit(self.work, request, client_address)
            except RuntimeError:  # shutting down
                self.slots.release()
                self.shutdown_request(request)

        def work(self, request, client_address) -> None:
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 -- as socketserver does, log and drop the connection
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
                self.slots.release()

        def refuse(self, request) -> None:
            body = b'{"error": "server busy: too many connections waiting; try again"}\n'
            try:
                request.setblocking(False)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )
            except OSError:
                pass
            self.shutdown_request(request)

        def server_close(self) -> None:
            super().server_close()
            self.deadlines.stop()
            self.pool.shutdown(wait=False, cancel_futures=True)

    return PooledServer
