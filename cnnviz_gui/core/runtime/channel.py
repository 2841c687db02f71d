"""Framed plain-data messages over a stream socket between the GUI and the compute process.

A message is one frame: an 8-byte length, a header line with the buffer sizes, the JSON header of
:func:`~cnnviz_gui.core.runtime.wire.encode`, then the array buffers as raw bytes. Buffers are written
straight from the arrays' memory and read straight into the receiving arrays (``sendall``/``recv_into`` on
memoryviews, the GIL released meanwhile), so a 30 MB dataset costs one copy per side.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from typing import Any

import numpy as np

from cnnviz_gui.core.runtime.wire import decode, encode

_LENGTH = struct.Struct("<Q")
SOCKET_BUFFER = 4 << 20


class ChannelClosed(EOFError):
    """The other process closed its end (it exited or was killed)."""


class Channel:
    """One end of the connection: ``send`` from any thread, ``recv`` from one reader thread."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
            except OSError:
                pass
        self._send_lock = threading.Lock()
        self.sent_bytes = 0
        self.received_bytes = 0

    @classmethod
    def from_fd(cls, fd: int) -> Channel:
        """A channel on a duplicate of the connected stream socket ``fd`` (the caller keeps its own fd)."""
        return cls(socket.socket(fileno=socket.dup(fd)))

    def send(self, message: Any) -> None:
        header, buffers = encode(message)
        meta = json.dumps([int(b.nbytes) for b in buffers]).encode() + b"\n"
        head = meta + header
        try:
            with self._send_lock:
                self.sock.sendall(_LENGTH.pack(len(head)) + head)
                for buf in buffers:
                    if buf.nbytes:
                        self.sock.sendall(memoryview(buf))
        except (BrokenPipeError, ConnectionResetError, OSError) as err:
            raise ChannelClosed(str(err)) from err
        self.sent_bytes += len(head) + 8 + sum(int(b.nbytes) for b in buffers)

    def recv(self) -> Any:
        (length,) = _LENGTH.unpack(self._read(_LENGTH.size))
        head = self._read(length)
        meta, header = head.split(b"\n", 1)
        buffers = []
        for size in json.loads(meta):
            buf = np.empty(int(size), np.uint8)
            if size:
                self._read_into(memoryview(buf))
            buffers.append(buf)
        self.received_bytes += 8 + length + sum(int(b.nbytes) for b in buffers)
        return decode(header, buffers)

    def _read(self, n: int) -> bytes:
        buf = bytearray(n)
        self._read_into(memoryview(buf))
        return bytes(buf)

    def _read_into(self, view: memoryview) -> None:
        got, n = 0, len(view)
        while got < n:
            try:
                k = self.sock.recv_into(view[got:], n - got)
            except (ConnectionResetError, OSError) as err:
                raise ChannelClosed(str(err)) from err
            if k == 0:
                raise ChannelClosed("the other process closed the connection")
            got += k

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def channel_pair() -> tuple[Channel, Channel]:
    """Two connected channels in this process (tests)."""
    a, b = socket.socketpair()
    return Channel(a), Channel(b)
