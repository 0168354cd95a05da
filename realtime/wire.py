"""Writing one already-framed WebSocket message to many daphne sockets.

A wall of dashboards gets the same frame on every socket. Through the ASGI path each socket costs
~130 µs of CPU per frame (the consumer's send, channels' session wrapper, daphne's reply handler,
autobahn re-encoding and framing the same text, a Task per socket): at 1,000 sockets a flush no
longer fits between events. A server-to-client frame is not masked, so its bytes are the same for
every socket: build them once, and hand them to each socket's transport, as `websockets.broadcast`
does. See docs/performance.md, "Dashboard fan-out".

This is used only where it is safe: a daphne (autobahn) socket that is open, with no extension
such as compression negotiated (daphne negotiates none), and whose protocol we found. Anything
else (the test communicator, a closing socket) takes the ordinary ASGI send.
"""

import functools

try:
    from autobahn.websocket.protocol import WebSocketProtocol
    from twisted.internet.tcp import Server as TCPServerTransport
except ImportError:  # pragma: no cover - daphne always brings both
    WebSocketProtocol = TCPServerTransport = None

_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2) holding `payload`."""
    length = len(payload)
    if length < 126:
        header = bytes((_FIN_TEXT, length))
    elif length < 1 << 16:
        header = bytes((_FIN_TEXT, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((_FIN_TEXT, 127)) + length.to_bytes(8, "big")
    return header + payload


class Frame:
    """One message for many sockets: its text for the ASGI path, its wire bytes for the fast one."""

    __slots__ = ("_wire", "text", "texts")

    def __init__(self, text: str, texts: list[str]):
        self.text = text
        self.texts = texts
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.text.encode("utf-8"))
        return self._wire


def daphne_protocol(send):
    """The autobahn protocol behind an ASGI `send` callable under daphne, or None.

    daphne gives each application `partial(Server.handle_reply, protocol)`; channels' session
    middleware wraps it in `InstanceSessionWrapper.send`, which keeps it as `real_send`.
    """
    if WebSocketProtocol is None:
        return None
    for _ in range(4):
        if isinstance(send, functools.partial):
            protocol = send.args[0] if send.args else None
            return protocol if isinstance(protocol, WebSocketProtocol) else None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


class SocketWriter:
    """Writes prepared frames straight to one daphne socket, or declines so the caller uses ASGI."""

    __slots__ = ("protocol",)

    def __init__(self, protocol):
        self.protocol = protocol

    @classmethod
    def for_send(cls, send) -> "SocketWriter | None":
        protocol = daphne_protocol(send)
        # Set by autobahn's opening handshake; missing before it, non-empty with compression.
        extensions = getattr(protocol, "websocket_extensions_in_use", None)
        if protocol is None or extensions is None or extensions:
            return None
        return cls(protocol)

    def write(self, frame: Frame) -> bool:
        protocol = self.protocol
        if protocol.state != WebSocketProtocol.STATE_OPEN:
            return False
        if protocol.send_queue:
            # autobahn has queued data of its own for this socket: keep the order.
            protocol.sendData(frame.wire)
        else:
            _write(protocol.transport, frame.wire)
        return True


def _write(transport, data: bytes) -> None:
    """Send now when Twisted holds nothing for this socket, as asyncio's own transports do.

    `transport.write` only buffers: the bytes leave on a later loop turn, after registering the
    socket with epoll and before unregistering it, for every socket and every frame. When nothing
    is buffered, sending at once keeps the order and skips that round trip; whatever the kernel
    does not take is buffered by Twisted as usual. A TLS or other transport just gets `write`.
    """
    if (
        type(transport) is TCPServerTransport
        and transport.connected
        and not transport.disconnecting
        and not transport._tempDataLen
        and transport.offset == len(transport.dataBuffer)
    ):
        sent = transport.writeSomeData(data)
        if not isinstance(sent, int):
            return  # the connection is lost; Twisted notices and closes it on its own
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)
