"""Where a topology comes from (vpc_verify.topology.sources): files read within bounds, SSM and S3 via the emulator."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import boto3
import pytest

from tests.testbed.emulator import Emulator
from vpc_verify.locations import load
from vpc_verify.topology import MAX_FILE_BYTES, TopologyError, TopologySourceError, read_file

TOPOLOGY = "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example.com]}\n"


def test_a_device_that_never_ends_is_refused_at_the_size_limit() -> None:
    start = time.monotonic()
    with pytest.raises(TopologySourceError, match=f"a file of at most {MAX_FILE_BYTES} bytes"):
        load("/dev/zero")
    assert time.monotonic() - start < 2


def test_a_fifo_that_stalls_is_refused_after_the_read_timeout(tmp_path: Path) -> None:
    fifo = tmp_path / "topology.fifo"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer() -> None:
        fd = os.open(fifo, os.O_WRONLY)  # blocks until the reader opens
        os.write(fd, b"version: 1\n")
        opened.set()
        time.sleep(1.5)  # and then says nothing more
        os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(0.1)
    start = time.monotonic()
    with pytest.raises(TopologySourceError, match=r"read within 0\.5 s"):
        read_file(str(fifo), timeout_s=0.5)
    assert time.monotonic() - start < 1.5
    thread.join(5)


def test_a_fifo_that_finishes_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "topology.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "w") as f:
            f.write(TOPOLOGY)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(0.1)
    assert read_file(str(fifo)) == TOPOLOGY
    thread.join(5)


def test_a_directory_is_not_a_topology(tmp_path: Path) -> None:
    with pytest.raises(TopologySourceError, match="expected a readable file, got 'a directory'"):
        load(tmp_path)


def test_ssm_parameter(aws: Emulator) -> None:
    boto3.client("ssm").put_parameter(Name="/vpc-verify/topology", Value=TOPOLOGY, Type="SecureString")
    topo = load("ssm:/vpc-verify/topology")
    assert topo.source == "ssm:/vpc-verify/topology" and [e.name for e in topo.endpoints] == ["a"]


def test_s3_object_bounded_and_utf8(aws: Emulator) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="topologies")
    s3.put_object(Bucket="topologies", Key="prod.yaml", Body=TOPOLOGY.encode())
    assert load("s3://topologies/prod.yaml").source == "s3://topologies/prod.yaml"
    s3.put_object(Bucket="topologies", Key="big.yaml", Body=b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(TopologySourceError, match="an object of at most"):
        load("s3://topologies/big.yaml")
    s3.put_object(Bucket="topologies", Key="latin1.yaml", Body="name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(TopologySourceError, match="UTF-8"):
        load("s3://topologies/latin1.yaml")


@pytest.mark.parametrize("location", ["s3://", "s3://Bad_Bucket/key", "s3://bucket-only"])
def test_malformed_s3_locations(location: str) -> None:
    with pytest.raises(TopologySourceError, match="an S3 location such as s3://bucket/key"):
        load(location)


def test_the_lambda_reads_ssm_through_the_same_source(aws: Emulator, tmp_path: Path) -> None:
    from vpc_verify.lambda_entry import Request, load_topology

    boto3.client("ssm").put_parameter(Name="topo", Value=TOPOLOGY, Type="String")
    topo = load_topology(Request(), {"VPC_VERIFY_TOPOLOGY_SSM": "topo", "LAMBDA_TASK_ROOT": str(tmp_path)})
    assert topo.source == "ssm:topo"
    with pytest.raises(TopologyError, match="s3://bucket/key"):
        load_topology(Request(), {"VPC_VERIFY_TOPOLOGY_S3": "bucket/key"})
