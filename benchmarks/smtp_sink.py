"""An SMTP server that costs almost nothing per message: 250 to everything, 354 to DATA.

    python benchmarks/smtp_sink.py PORT [--no-pipelining]

It keeps nothing and checks nothing, so a benchmark against it measures the client's cost, not
the relay's (aiosmtpd parses every command and message in Python, and would be the bottleneck).
It advertises PIPELINING unless told not to, and answers each batch of commands it reads in one
write, as a pipelining relay does. `batches` records the commands read together, for a test that
the client pipelines.
"""

from __future__ import annotations

import argparse
import socket
import threading

END_OF_DATA = b"\r\n.\r\n"


class Sink:
    """The sink on 127.0.0.1 (port 0: any free one), one thread per connection."""

    def __init__(self, port: int = 0, pipelining: bool = True) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self.listener.getsockname()[1]
        features = b"250-PIPELINING\r\n" if pipelining else b""
        self.ehlo = b"250-sink\r\n" + features + b"250 8BITMIME\r\n"
        self.messages = 0
        self.batches: list[list[bytes]] = []
        self.lock = threading.Lock()

    def start(self) -> Sink:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self.talk, args=(connection,), daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def talk(self, connection: socket.socket) -> None:
        with connection:
            connection.sendall(b"220 sink ESMTP\r\n")
            buffer, in_data = bytearray(), False
            while chunk := connection.recv(1 << 16):
                buffer += chunk
                replies, commands, in_data = self.answer(buffer, in_data)
                if commands:
                    with self.lock:
                        self.batches.append(commands)
                if replies:
                    connection.sendall(replies)
                if b"QUIT" in commands:
                    return

    def answer(self, buffer: bytearray, in_data: bool) -> tuple[bytes, list[bytes], bool]:
        """The replies to every whole command (or message) in `buffer`, which loses them."""
        replies, commands = bytearray(), []
        while True:
            if in_data:
                end = buffer.find(END_OF_DATA)
                if end < 0:
                    return bytes(replies), commands, True
                del buffer[: end + len(END_OF_DATA)]
                in_data = False
                with self.lock:
                    self.messages += 1
                replies += b"250 2.0.0 kept\r\n"
                continue
            end = buffer.find(b"\r\n")
            if end < 0:
                return bytes(replies), commands, False
            verb = bytes(buffer[:4]).upper()
            del buffer[: end + 2]
            commands.append(verb)
            if verb in (b"EHLO", b"HELO"):
                replies += self.ehlo
            elif verb == b"DATA":
                buffer[:0] = b"\r\n"  # so that an empty message's "." ends it too
                in_data = True
                replies += b"354 go ahead\r\n"
            elif verb == b"QUIT":
                replies += b"221 bye\r\n"
            else:
                replies += b"250 OK\r\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--no-pipelining", action="store_true")
    args = parser.parse_args()
    Sink(args.port, pipelining=not args.no_pipelining).serve_forever()


if __name__ == "__main__":
    main()
