"""Writing one already-framed WebSocket message to many daphne sockets.

A wall of dashboards gets the same frame on every socket. Through the ASGI path each socket costs
~130 µs of CPU per frame (the consumer's send, channels' session wrapper, daphne's reply handler,
autobahn re-encoding and framing the same text, a Task per socket): at 1,000 sockets a flush no
longer fits between events. A server-to-client frame is not masked, so its bytes are the same for
every socket: build them once, and hand them to each socket's transport, as `websockets.broadcast`
does. See docs/performance.md, "Dashboard fan-out".

This is used only where it is safe: a daphne (autobahn) socket that is open, with no extension
such as compression negotiated (daphne negotiates none), whose protocol we found and whose
transport is Twisted's plain TCP server connection. Anything else (the test communicator, a
closing socket, a TLS transport) takes the ordinary ASGI send.

It fails safe. This module reads autobahn's and Twisted's internals (versions pinned in
requirements.txt). When they are not what it expects (an attribute gone, another class, a write
that raises, a protocol in another state), `SocketWriter.write` returns False before any byte of
the frame left, and the caller sends that frame through the ordinary ASGI send instead. From then
on the writer declines every frame for that socket, so a frame on the ordinary (awaited) path is
never overtaken by a later one written straight away. The first such surprise is logged once per
process.
"""

import functools
import logging

try:
    from autobahn.websocket.protocol import WebSocketProtocol
    from twisted.internet.tcp import Server as TCPServerTransport
except ImportError:  # pragma: no cover - daphne always brings both
    WebSocketProtocol = TCPServerTransport = None

logger = logging.getLogger(__name__)

_FIN_TEXT = 0x81
_surprise_logged = False


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
    """Writes prepared frames straight to one daphne socket, or declines so the caller uses ASGI.

    `write` returns True when the whole frame is on its way (sent, or buffered by Twisted in
    order), and False when the caller must send it through the ordinary ASGI send; once it
    declined, it declines every later frame of this socket (see the module's docstring).
    """

    __slots__ = ("declined", "frames_written", "protocol")

    def __init__(self, protocol):
        self.protocol = protocol
        self.declined = False
        self.frames_written = 0

    @classmethod
    def for_send(cls, send) -> "SocketWriter | None":
        try:
            protocol = daphne_protocol(send)
            # Set by autobahn's opening handshake; missing before it, non-empty with compression.
            extensions = getattr(protocol, "websocket_extensions_in_use", None)
        except Exception as error:
            _log_surprise_once("finding the protocol behind the ASGI send", error)
            return None
        if protocol is None or extensions is None or extensions:
            return None
        return cls(protocol)

    def write(self, frame: Frame) -> bool:
        if self.declined:
            return False
        try:
            transport = self._open_transport()
        except _Unexpected as surprise:
            return self._decline(surprise.reason)
        except Exception as error:
            return self._decline("checking the socket", error)
        if transport is None:
            return self._decline()  # closing: the ordinary send knows what to do with it
        data = frame.wire
        try:
            taken = _write(transport, data)
        except _Torn as torn:
            # Part of the frame is on the wire: sending it again whole would corrupt the stream.
            # Drop the connection instead; the client reconnects and loads a fresh snapshot.
            _log_surprise_once(str(torn), torn.__cause__)
            self.declined = True
            _abort(transport)
            return True
        except Exception as error:
            return self._decline("writing", error)  # raised before taking any byte of the frame
        if not taken:
            return self._decline()  # the connection was lost: Twisted closes it on its own
        self.frames_written += 1
        return True

    def _open_transport(self):
        """The TCP transport to write to, None if the socket is closing; raises _Unexpected."""
        protocol = self.protocol
        state = protocol.state
        if state != WebSocketProtocol.STATE_OPEN:
            if state in (WebSocketProtocol.STATE_CLOSING, WebSocketProtocol.STATE_CLOSED):
                return None
            raise _Unexpected(f"an autobahn protocol in state {state!r}")
        if protocol.send_queue:
            # autobahn queued data of its own (daphne never asks it to): let it keep the order.
            raise _Unexpected("autobahn's send queue in use")
        transport = protocol.transport
        if type(transport) is not TCPServerTransport:
            raise _Unexpected(f"a transport of type {type(transport).__qualname__}")
        if not transport.connected or transport.disconnecting:
            return None
        return transport

    def _decline(self, reason: str | None = None, error: BaseException | None = None) -> bool:
        self.declined = True
        if reason is not None:
            _log_surprise_once(reason, error)
        return False


class _Unexpected(Exception):
    """autobahn or Twisted is not as this module expects; nothing of the frame was written."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Torn(Exception):
    """Writing failed after part of the frame had been taken by the kernel."""


def _write(transport, data: bytes) -> bool:
    """Send now when Twisted holds nothing for this socket, as asyncio's own transports do.

    `transport.write` only buffers: the bytes leave on a later loop turn, after registering the
    socket with epoll and before unregistering it, for every socket and every frame. When nothing
    is buffered, sending at once keeps the order and skips that round trip; whatever the kernel
    does not take is buffered by Twisted as usual.

    Returns False when the connection turned out lost and nothing was sent. Raises (any error)
    only before a byte of `data` was taken, and _Torn after.
    """
    if transport._tempDataLen or transport.offset != len(transport.dataBuffer):
        transport.write(data)  # Twisted holds bytes of earlier frames: queue behind them
        return True
    sent = transport.writeSomeData(data)
    if isinstance(sent, Exception):
        return False  # Twisted's way of saying the connection is lost; nothing was sent
    if type(sent) is not int or not 0 <= sent <= len(data):
        raise _Torn(f"writeSomeData returned a {type(sent).__qualname__}")
    if sent < len(data):
        try:
            transport.write(data[sent:])
        except Exception as error:
            if sent == 0:
                raise
            raise _Torn("buffering the rest of a frame") from error
    return True


def _abort(transport) -> None:
    try:
        transport.abortConnection()
    except Exception:
        logger.exception("Could not drop a WebSocket connection whose frame was cut short")


def _log_surprise_once(reason: str, error: BaseException | None = None) -> None:
    """One warning per process: which internal was not as expected, never the frame or the peer."""
    global _surprise_logged
    if _surprise_logged:
        return
    _surprise_logged = True
    if isinstance(error, AttributeError):
        detail = f": AttributeError for {error.name!r}"
    elif error is not None:
        detail = f": {type(error).__qualname__}"
    else:
        detail = ""
    logger.warning(
        "Writing straight to daphne's sockets is off for the sockets it failed on (%s%s); their "
        "frames go through the ordinary ASGI send. Check the pinned Twisted and autobahn versions.",
        reason,
        detail,
    )
