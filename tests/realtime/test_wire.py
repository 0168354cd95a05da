"""Frames written straight to daphne's sockets are the frames a WebSocket client reads, and when
Twisted's or autobahn's internals are not as expected every frame still arrives, in order, once.

Two kinds of test: real daphne processes and a real `websockets` client over TCP (the fast path as
it runs in production, and two ways of breaking it on a live socket); and daphne's protocol on a
real `twisted.internet.tcp.Server` over a TCP socket pair, driven by the hub, with the internals
broken in each way the writer must survive (monkeypatching them is the point of those tests).
"""

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections import deque
from functools import partial
from pathlib import Path
from typing import TypedDict

import pytest
import websockets
from asgiref.sync import async_to_sync, sync_to_async
from autobahn.websocket.protocol import WebSocketProtocol
from channels.sessions import InstanceSessionWrapper
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet import abstract, tcp
from twisted.internet.testing import MemoryReactorClock, StringTransport
from websockets.frames import Opcode
from websockets.protocol import OPEN, Protocol, Side

from realtime import broadcast, catalogue, hub, wire
from realtime.wire import Frame, SocketWriter, text_frame
from tests.realtime.wire_server import ForwardingTransport, frame_text, write_raises_once


class WireTestData(TypedDict):
    n: int


# The frames these tests send: registered like any app's event ("test." names are the tests' own), on a stream kind of their own.
WIRE_TEST_EVENT = catalogue.register("test.wire", WireTestData, streams=("wiretest",))

BASE_DIR = Path(__file__).resolve().parent.parent.parent


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


# --- Real daphne, real client ------------------------------------------------------------------


@pytest.fixture(scope="module")
def daphne_url(tmp_path_factory):
    """daphne serving tests/realtime/wire_server.py on a free port of 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = tmp_path_factory.mktemp("wire") / "daphne.log"
    daphne = str(Path(sys.executable).parent / "daphne")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "tests.realtime.wire_server:application"],
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise RuntimeError(f"daphne did not start: {log_path.read_text()}") from None
            time.sleep(0.1)
    yield f"ws://127.0.0.1:{port}/"
    process.terminate()
    process.wait(timeout=10)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def read_from_daphne(url: str, command: dict) -> tuple[list[str], dict]:
    async def talk():
        # A client slow to start reading: what the kernel cannot hold waits in Twisted's buffer.
        async with websockets.connect(url, max_size=None, max_queue=1) as client:
            await client.send(json.dumps(command))
            await asyncio.sleep(0.5)
            texts = []
            while True:
                text = await asyncio.wait_for(client.recv(), 30)
                if text.startswith('{"type": "report"'):
                    return texts, json.loads(text)
                texts.append(text)

    return asyncio.run(talk())


@pytest.mark.integration
def test_daphne_writes_frames_through_twisteds_tcp_server_and_the_client_reads_each_intact_in_order(daphne_url):
    # 300 frames of ~75 kB: far more than the kernel takes at once, so frames are sent whole, in
    # part with the rest buffered by Twisted, and behind Twisted's buffer.
    command = {"count": 300, "size": 25_000}
    texts, report = read_from_daphne(daphne_url, command)

    assert report["found_daphnes_socket"] is True
    assert report["frames_written"] == 300 and report["sent_the_ordinary_way"] == 0
    assert report["declined"] is False
    assert report["written_behind_twisteds_buffer"] > 0
    assert texts == [frame_text(number, 25_000) for number in range(300)]


@pytest.mark.integration
@pytest.mark.parametrize("how", ["write-raises", "another-transport"])
def test_when_daphnes_socket_is_not_as_expected_its_frames_go_the_ordinary_way_in_order_once(daphne_url, how):
    command = {"count": 40, "size": 2_000, "break": how, "break_after": 15}
    texts, report = read_from_daphne(daphne_url, command)

    assert report["frames_written"] == 15 and report["sent_the_ordinary_way"] == 25
    assert report["declined"] is True
    assert texts == [frame_text(number, 2_000) for number in range(40)]


# --- daphne's protocol on a real tcp.Server, driven by the hub ----------------------------------


class DaphneSocket:
    """daphne's protocol over a real TCP connection on 127.0.0.1, with the client's end to read.

    Twisted's reactor is not running here: the transport's reactor is Twisted's MemoryReactorClock
    and the test reads the client's end of the socket itself.
    """

    def __init__(self):
        listener = socket.create_server(("127.0.0.1", 0))
        self.client_end = socket.create_connection(listener.getsockname())
        server_end, address = listener.accept()
        listener.close()
        server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])  # never started
        self.protocol = WebSocketFactory(server).buildProtocol(address)
        self.transport = tcp.Server(server_end, self.protocol, address, None, 1, MemoryReactorClock())
        # What autobahn's connection and opening handshake leave behind (no extension negotiated).
        self.protocol.transport = self.transport
        self.protocol.send_queue = deque()
        self.protocol.websocket_extensions_in_use = []
        self.protocol.state = WebSocketProtocol.STATE_OPEN
        wrapper = InstanceSessionWrapper({"session": None}, partial(server.handle_reply, self.protocol))
        self.send = wrapper.send

    def texts_received(self) -> list[str]:
        self.client_end.settimeout(0.2)
        data = b""
        while True:
            try:
                chunk = self.client_end.recv(1 << 20)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
        return [frame.data.decode() for frame in frames_read_by_a_client(data)]

    def close(self):
        self.client_end.close()
        self.transport.socket.close()


@pytest.fixture
def daphne_socket():
    opened = DaphneSocket()
    yield opened
    opened.close()


class Dashboard:
    """The hub's side of a dashboard consumer: the writer first, the ordinary ASGI send when it declines.

    The ordinary send is recorded rather than performed, so that it still works when the test
    broke Twisted's or autobahn's internals; in production it comes after every frame already
    written, as the hub awaits it.
    """

    def __init__(self, send):
        self.writer = SocketWriter.for_send(send)
        self.sent_the_ordinary_way: list[str] = []
        self.break_before = None

    def deliver_now(self, frame):
        if self.break_before is not None and self.break_before[0] in numbers([frame.text]):
            self.break_before[1]()
        return self.writer.write(frame)

    async def deliver(self, frame):
        await asyncio.sleep(0)  # the ordinary send is awaited: later frames must not overtake it
        self.sent_the_ordinary_way.append(frame.text)


def numbers(texts):
    """The numbers of the events the frames hold (the hub sends events that arrive together as a batch)."""
    events = []
    for text in texts:
        message = json.loads(text)
        events.extend(message["events"] if message["type"] == "batch" else [message])
    return [event["data"]["n"] for event in events]


def events_through_the_hub(dashboard, count: int, stream: str) -> None:
    async def body():
        await hub.hub().join(stream, dashboard)
        for number in range(count):
            await sync_to_async(broadcast.send)(event_type=WIRE_TEST_EVENT, streams=[stream], data={"n": number})
            await asyncio.sleep(0.01)  # one frame per event
        await asyncio.sleep(0.05)
        hub.hub().leave(stream, dashboard)

    async_to_sync(body)()


@pytest.fixture
def log_surprises_again(monkeypatch):
    monkeypatch.setattr(wire, "_surprise_logged", False)


def test_the_hub_writes_every_frame_through_the_real_tcp_server_when_nothing_is_broken(daphne_socket):
    dashboard = Dashboard(daphne_socket.send)
    events_through_the_hub(dashboard, 10, "wiretest.intact")

    assert dashboard.writer.frames_written == 10
    assert dashboard.sent_the_ordinary_way == []
    assert numbers(daphne_socket.texts_received()) == list(range(10))


def breakages():
    """Ways Twisted's or autobahn's internals may differ from what realtime/wire.py expects."""

    def twisted_renamed_its_write_buffer(monkeypatch, socket):
        monkeypatch.delattr(abstract.FileDescriptor, "dataBuffer")

    def twisted_renamed_the_buffered_length(monkeypatch, socket):
        del socket.transport._tempDataLen

    def autobahn_renamed_its_send_queue(monkeypatch, socket):
        del socket.protocol.send_queue

    def autobahn_renamed_its_states(monkeypatch, socket):
        monkeypatch.delattr(WebSocketProtocol, "STATE_OPEN")

    def the_transport_is_not_a_tcp_server(monkeypatch, socket):
        socket.protocol.transport = ForwardingTransport(socket.transport)

    def the_transport_is_twisteds_test_transport(monkeypatch, socket):
        socket.protocol.transport = StringTransport()

    def a_write_raises(monkeypatch, socket):
        write_raises_once(socket.transport)

    def the_protocol_is_in_a_state_it_never_has_when_open(monkeypatch, socket):
        socket.protocol.state = WebSocketProtocol.STATE_CONNECTING

    def autobahn_queued_data_of_its_own(monkeypatch, socket):
        socket.protocol.send_queue.append((b"", False))

    return [
        twisted_renamed_its_write_buffer,
        twisted_renamed_the_buffered_length,
        autobahn_renamed_its_send_queue,
        autobahn_renamed_its_states,
        the_transport_is_not_a_tcp_server,
        the_transport_is_twisteds_test_transport,
        a_write_raises,
        autobahn_queued_data_of_its_own,
        the_protocol_is_in_a_state_it_never_has_when_open,
    ]


@pytest.mark.parametrize("breakage", breakages(), ids=lambda breakage: breakage.__name__)
def test_when_the_internals_are_not_as_expected_every_frame_arrives_in_order_exactly_once(
    daphne_socket, monkeypatch, caplog, log_surprises_again, breakage
):
    dashboard = Dashboard(daphne_socket.send)
    dashboard.break_before = (4, lambda: breakage(monkeypatch, daphne_socket))

    events_through_the_hub(dashboard, 12, f"wiretest.{breakage.__name__}")
    monkeypatch.undo()  # Twisted whole again, to read what reached the client
    on_the_wire = numbers(daphne_socket.texts_received())
    the_ordinary_way = numbers(dashboard.sent_the_ordinary_way)

    assert on_the_wire == [0, 1, 2, 3]
    assert the_ordinary_way == list(range(4, 12))  # the rest, in order, once: none lost or repeated
    [warning] = [r for r in caplog.records if r.name == "realtime.wire"]
    assert "Twisted and autobahn" in warning.getMessage()


def test_the_fall_back_is_logged_once_per_process_without_the_frames_text(caplog, log_surprises_again):
    secret = "山田太郎"
    for _ in range(3):
        other = DaphneSocket()
        other.protocol.transport = StringTransport()
        assert SocketWriter.for_send(other.send).write(Frame(secret, [secret])) is False
        other.close()

    warnings = [r for r in caplog.records if r.name == "realtime.wire"]
    assert len(warnings) == 1
    assert secret not in warnings[0].getMessage()


def test_a_closing_socket_goes_the_ordinary_way_from_then_on_without_a_warning(daphne_socket, caplog):
    dashboard = Dashboard(daphne_socket.send)
    dashboard.break_before = (2, lambda: setattr(daphne_socket.protocol, "state", WebSocketProtocol.STATE_CLOSING))

    events_through_the_hub(dashboard, 5, "wiretest.closing")

    assert numbers(daphne_socket.texts_received()) == [0, 1]
    assert numbers(dashboard.sent_the_ordinary_way) == [2, 3, 4]
    assert not [r for r in caplog.records if r.name == "realtime.wire"]


def test_a_frame_cut_short_drops_the_connection_rather_than_sending_it_again(daphne_socket, monkeypatch):
    """Part of a frame reached the kernel and Twisted would not take the rest: sending the frame
    again whole would corrupt the stream, so the connection is dropped (the client resyncs)."""
    writer = SocketWriter.for_send(daphne_socket.send)
    monkeypatch.setattr(daphne_socket.transport, "writeSomeData", lambda data: 3)
    monkeypatch.setattr(daphne_socket.transport, "write", lambda data: 1 / 0)

    assert writer.write(Frame("x" * 100, [])) is True
    assert writer.write(Frame("y", [])) is False
    assert daphne_socket.transport._aborting


def test_the_writer_declines_a_socket_that_is_closing(daphne_socket):
    writer = SocketWriter.for_send(daphne_socket.send)
    daphne_socket.protocol.state = WebSocketProtocol.STATE_CLOSING

    assert writer.write(Frame("{}", ["{}"])) is False
    assert daphne_socket.texts_received() == []


def test_there_is_no_writer_for_a_socket_that_negotiated_compression(daphne_socket):
    daphne_socket.protocol.websocket_extensions_in_use = ["permessage-deflate"]

    assert SocketWriter.for_send(daphne_socket.send) is None


def test_there_is_no_writer_for_a_send_that_is_not_daphnes():
    async def send(message):
        pass

    assert SocketWriter.for_send(send) is None
