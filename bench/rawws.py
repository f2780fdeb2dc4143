"""A minimal WebSocket client as an asyncio protocol: no task per connection, so one process
can hold ten thousand phones. Text messages are handed to a callback with their arrival time.

Client side of RFC 6455 only as far as the benchmark needs: the opening handshake without
extensions, unmasked frames from the server (text, continuation, ping, close), masked pong
and close frames back.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable
from typing import cast

OnMessage = Callable[["WsClient", str, float], None]


class WsError(Exception):
    """The handshake was refused or the connection failed."""


class WsClient(asyncio.Protocol):
    def __init__(self, host: str, path: str, headers: dict[str, str],
                 on_message: OnMessage) -> None:
        self.host = host
        self.path = path
        self.headers = headers
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.close_code: int | None = None
        self.messages = 0
        self.tag = 0  # the caller's label (which phone)
        self._buf = bytearray()
        self._upgraded = False
        self._parts: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line = bytes(self._buf[:self._buf.find(b"\r\n")]).decode("latin-1")
            parts = status_line.split(" ")
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if self.status != 101:
                self._finish(WsError(f"handshake refused: {status_line}"))
                return
            del self._buf[:end + 4]
            self._upgraded = True
            if not self.opened.done():
                self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buf = self._buf
        while len(buf) >= 2:
            fin, opcode = buf[0] & 0x80, buf[0] & 0x0F
            length, pos = buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = struct.unpack_from("!H", buf, 2)[0], 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < pos + length:
                return
            payload = bytes(buf[pos:pos + length])
            del buf[:pos + length]
            if opcode in (0x0, 0x1, 0x2):
                self._parts.append(payload)
                if fin:
                    message, self._parts = b"".join(self._parts), []
                    self.messages += 1
                    self.on_message(self, message.decode("utf-8", "replace"),
                                    time.perf_counter())
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 \
                    else 1005
                self._send(0x8, payload[:2])
                self._finish(None)
                return

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        header = bytes([0x80 | opcode, 0x80 | len(payload)])  # control frames: < 126 bytes
        self.transport.write(header + mask + masked)

    def close(self, code: int = 1000) -> None:
        self._send(0x8, struct.pack("!H", code))
        if self.transport is not None:
            self.transport.close()

    def _finish(self, error: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(error or WsError("closed during the handshake"))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(WsError(f"connection lost in the handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)


async def connect(host: str, port: int, path: str, headers: dict[str, str],
                  on_message: OnMessage, time_limit: float = 30.0) -> WsClient:
    loop = asyncio.get_running_loop()
    deadline = time.perf_counter() + time_limit
    _transport, client = await asyncio.wait_for(loop.create_connection(
        lambda: WsClient(f"{host}:{port}", path, headers, on_message), host, port), time_limit)
    try:
        await asyncio.wait_for(client.opened, max(deadline - time.perf_counter(), 0.001))
    except BaseException:
        if client.transport is not None:
            client.transport.abort()
        raise
    return client
