"""A bare ASGI application for real daphne, writing frames as the hub does (tests/realtime/test_wire.py).

The client sends one command: how many frames, how big, and optionally which of Twisted's or
autobahn's internals to break (on this socket only) after how many frames. Each frame is offered to
`SocketWriter` first and, when it declines, sent through daphne's ordinary ASGI send, as the
dashboard consumers do. A last message reports what the writer did.
"""

import json

from realtime.wire import Frame, SocketWriter


class ForwardingTransport:
    """Twisted's transport behind another object: not the `tcp.Server` the fast path knows."""

    def __init__(self, transport):
        self._transport = transport

    def __getattr__(self, name):
        return getattr(self._transport, name)


def write_raises_once(transport):
    real = transport.writeSomeData

    def raising(data):
        transport.writeSomeData = real  # Twisted's own later writes go through untouched
        raise OSError("a write that failed")

    transport.writeSomeData = raising


def break_socket(protocol, how: str) -> None:
    if how == "write-raises":
        write_raises_once(protocol.transport)
    elif how == "another-transport":
        protocol.transport = ForwardingTransport(protocol.transport)
    else:
        raise ValueError(how)


def held_by_twisted(transport) -> int:
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


def frame_text(number: int, size: int) -> str:
    return json.dumps({"n": number, "text": f"{number}:" + "避" * size}, ensure_ascii=False)


async def application(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    command = json.loads((await receive())["text"])
    writer = SocketWriter.for_send(send)
    protocol = writer.protocol if writer else None
    ordinary = behind_twisteds_buffer = 0
    for number in range(command["count"]):
        behind_twisteds_buffer += bool(writer and not writer.declined and held_by_twisted(protocol.transport))
        if command.get("break") and number == command["break_after"]:
            break_socket(protocol, command["break"])
        frame = Frame(frame_text(number, command["size"]), [])
        if writer is None or not writer.write(frame):
            await send({"type": "websocket.send", "text": frame.text})
            ordinary += 1
    report = {
        "type": "report",
        "found_daphnes_socket": writer is not None,
        "frames_written": writer.frames_written if writer else 0,
        "sent_the_ordinary_way": ordinary,
        "declined": writer.declined if writer else None,
        # Frames written while Twisted held bytes the kernel had not taken yet.
        "written_behind_twisteds_buffer": behind_twisteds_buffer,
    }
    await send({"type": "websocket.send", "text": json.dumps(report)})
    while (await receive())["type"] != "websocket.disconnect":
        pass
