"""Frames written straight to daphne's sockets are the frames a WebSocket client reads."""

from collections import deque
from functools import partial

import pytest
from channels.sessions import InstanceSessionWrapper
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.testing import StringTransport
from websockets.frames import Opcode
from websockets.protocol import OPEN, Protocol, Side

from realtime.wire import Frame, SocketWriter, text_frame


def frames_read_by_a_client(data: bytes):
    client = Protocol(Side.CLIENT, state=OPEN, max_size=None)
    client.receive_data(data)
    return client.events_received()


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_a_text_frame_of_any_length_reads_back_as_the_same_text(length):
    text = ("避" * length)[:length] if length < 10 else "x" * (length - 3) + "避"
    payload = text.encode("utf-8")
    [frame] = frames_read_by_a_client(text_frame(payload))
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data == payload


def open_daphne_socket():
    """daphne's own protocol on a recording transport, behind channels' session wrapper."""
    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])  # never started
    protocol = WebSocketFactory(server).buildProtocol(None)
    # What autobahn's connection and opening handshake leave behind (no extension negotiated).
    protocol.transport = StringTransport()
    protocol.send_queue = deque()
    protocol.websocket_extensions_in_use = []
    protocol.state = protocol.STATE_OPEN
    wrapper = InstanceSessionWrapper({"session": None}, partial(server.handle_reply, protocol))
    return protocol, wrapper.send


def test_the_writer_finds_daphnes_socket_behind_the_session_wrapper_and_writes_the_frame():
    protocol, send = open_daphne_socket()
    writer = SocketWriter.for_send(send)
    frame = Frame('{"type":"shelter.updated","seq":1}', ['{"type":"shelter.updated","seq":1}'])

    assert writer is not None
    assert writer.write(frame) is True
    [received] = frames_read_by_a_client(protocol.transport.value())
    assert received.data.decode() == frame.text


def test_the_writer_declines_a_socket_that_is_closing():
    protocol, send = open_daphne_socket()
    writer = SocketWriter.for_send(send)
    protocol.state = protocol.STATE_CLOSING

    assert writer.write(Frame("{}", ["{}"])) is False
    assert protocol.transport.value() == b""


def test_there_is_no_writer_for_a_socket_that_negotiated_compression():
    protocol, send = open_daphne_socket()
    protocol.websocket_extensions_in_use = ["permessage-deflate"]

    assert SocketWriter.for_send(send) is None


def test_there_is_no_writer_for_a_send_that_is_not_daphnes():
    async def send(message):
        pass

    assert SocketWriter.for_send(send) is None
