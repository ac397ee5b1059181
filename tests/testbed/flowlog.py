"""VPC Flow Logs for the box: the records AWS would write for the probes the box drops, in AWS's default
format (version 2), into the emulator's CloudWatch Logs, one log stream per network interface, as AWS does.

The box drops with nftables on input; an AF_PACKET socket on `lo` sees each packet before that hook, so the
recorder knows every dropped probe's own 5-tuple, its source port included. Each aggregation interval it
writes one REJECT record per flow seen (packets counted, start and end in epoch seconds), on the stream of the
endpoint ENI that holds the destination address. With each record it writes a decoy: the same endpoint and
port from source port 1024 (outside Linux's ephemeral range, never a probe's), with the probe's source port
as its byte count, so a term filter on that port returns it too, and only the 5-tuple match tells them apart.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
ETH_P_ALL = 0x0003
DECOY_PORT = 1024


@dataclass
class _Flow:
    packets: int = 0
    bytes: int = 0
    start: int = 0
    end: int = 0


@dataclass
class FlowLogRecorder:
    """Records the dropped probes to `targets` ((address, port) -> the ENI id holding the address)."""

    logs: Any  # a boto3 CloudWatch Logs client of the emulator
    log_group: str
    targets: Mapping[tuple[str, int], str]
    interval_s: float = 0.5
    written: list[str] = field(default_factory=list)
    _flows: dict[tuple[str, int, str, int], _Flow] = field(default_factory=dict)
    _streams: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> FlowLogRecorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Open the socket on lo and start sniffing."""
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind(("lo", 0))
        sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="flowlog-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop, and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.flush()

    def _run(self, sock: socket.socket) -> None:
        last = time.monotonic()
        with sock:
            while not self._stop.is_set():
                try:
                    frame, where = sock.recvfrom(65535)
                except TimeoutError:
                    frame, where = b"", None
                if where is not None and where[2] == socket.PACKET_HOST:
                    self._seen(frame)
                if time.monotonic() - last >= self.interval_s:
                    self.flush()
                    last = time.monotonic()

    def _seen(self, frame: bytes) -> None:
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            return
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 6 or len(ip) < ihl + 14:
            return
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        sport, dport = struct.unpack("!HH", ip[ihl : ihl + 4])
        if (dst, dport) not in self.targets:
            return
        now = int(time.time())
        with self._lock:
            flow = self._flows.setdefault((src, sport, dst, dport), _Flow(start=now))
            flow.packets += 1
            flow.bytes += len(ip)
            flow.end = now

    def flush(self) -> None:
        """Write one record per flow seen since the last flush (and its decoy)."""
        with self._lock:
            flows, self._flows = self._flows, {}
        by_stream: dict[str, list[dict[str, Any]]] = {}
        for (src, sport, dst, dport), f in flows.items():
            eni = self.targets[(dst, dport)]
            record = (
                f"2 {ACCOUNT} {eni} {src} {dst} {sport} {dport} 6 {f.packets} {f.bytes} {f.start} {f.end} REJECT OK"
            )
            decoy = f"2 {ACCOUNT} {eni} {src} {dst} {DECOY_PORT} {dport} 6 1 {sport} {f.start} {f.end} ACCEPT OK"
            stamp = f.start * 1000
            by_stream.setdefault(eni, []).extend(
                [{"timestamp": stamp, "message": record}, {"timestamp": stamp, "message": decoy}]
            )
            self.written.append(record)
        for stream, events in by_stream.items():
            if stream not in self._streams:
                self.logs.create_log_stream(logGroupName=self.log_group, logStreamName=stream)
                self._streams.add(stream)
            self.logs.put_log_events(logGroupName=self.log_group, logStreamName=stream, logEvents=events)


def enable(ec2: Any, logs: Any, vpc_id: str, log_group: str = "vpc-flow-logs") -> str:
    """A flow log of the whole VPC to a CloudWatch Logs group (created), as an operator would set one up."""
    logs.create_log_group(logGroupName=log_group)
    ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName=log_group,
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
    )
    return log_group
