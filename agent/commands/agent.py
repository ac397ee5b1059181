"""`vpc-verify agent`: the EC2 agent loop (vpc_verify.loop) as a long-running command, for systemd.

SIGTERM or SIGINT stops it within 5 s even in the middle of a run: the run is cancelled at once, and if a
worker thread is stuck in a blocking call (an AWS request) the process exits hard after a grace period,
since the last report is already on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from vpc_verify.commands.check import add_output_arguments, positive
from vpc_verify.errors import UsageError
from vpc_verify.logs import configure as configure_logs
from vpc_verify.publish.cloudwatch import DEFAULT_BUFFER_CAP
from vpc_verify.run import DEFAULT_CONCURRENCY

if TYPE_CHECKING:  # the loop (its HTTP server, structlog) is imported only to run the agent, not to check
    from vpc_verify.loop import AgentLoop, LoopConfig

STOP_GRACE_S = 4.0  # SIGTERM to exit stays under systemd's and the 5 s


def register(sub: Any) -> None:
    """Add the `agent` subcommand."""
    p = sub.add_parser(
        "agent",
        help="run the checks every interval, forever (the EC2 agent)",
        description="Run every check of a topology every --interval seconds, publish metrics, keep the last "
        "report in a file (and on loopback HTTP: GET /report, GET /healthz). Survives any single run's "
        "failure; stops within 5 s on SIGTERM.",
    )
    p.add_argument(
        "-t",
        "--topology",
        default=os.environ.get("VPC_VERIFY_TOPOLOGY"),
        help="topology file, re-read every run (default: $VPC_VERIFY_TOPOLOGY)",
    )
    p.add_argument("--interval", type=positive, default=60.0, metavar="SECONDS", help="seconds between runs")
    p.add_argument(
        "--jitter",
        type=float,
        default=None,
        metavar="SECONDS",
        help="random extra delay before each run, up to SECONDS (default 10%% of the interval)",
    )
    p.add_argument(
        "--deadline",
        type=positive,
        default=None,
        metavar="SECONDS",
        help="each run's deadline (default: the smaller of 30 s and the interval)",
    )
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N")
    p.add_argument(
        "--state-file",
        default=None,
        metavar="PATH",
        help="the last report, written atomically (default $STATE_DIRECTORY/report.json, else "
        "./vpc-verify-report.json)",
    )
    p.add_argument(
        "--http",
        default=None,
        metavar="127.0.0.1:PORT",
        help="serve GET /report and GET /healthz on this loopback address",
    )
    add_output_arguments(p, files=False)
    p.add_argument(
        "--buffer",
        type=int,
        default=DEFAULT_BUFFER_CAP,
        metavar="DATUMS",
        help=f"metrics kept in memory while CloudWatch is unreachable (default {DEFAULT_BUFFER_CAP})",
    )
    p.add_argument("--no-aws", action="store_true", help="skip the AWS control-plane comparison")
    p.add_argument("--max-runs", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.set_defaults(handler=handle)


def parse_http(text: str) -> tuple[str, int]:
    """HOST:PORT on loopback only: the report is for this machine's users, not the network."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if sep else "127.0.0.1"
    try:
        number = int(port)
        if not 0 <= number <= 65535:
            raise ValueError
    except ValueError:
        raise UsageError(f"--http: expected HOST:PORT such as 127.0.0.1:9180, got {text!r}") from None
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise UsageError(
                f"--http: {host} is not a loopback address; the agent serves its report only on 127.0.0.1 or ::1"
            )
    return host, number


def config_from_args(args: argparse.Namespace) -> LoopConfig:
    """The loop's configuration from the command line."""
    from vpc_verify.loop import LoopConfig, default_state_file

    if not args.topology:
        raise UsageError("no topology: pass --topology FILE or set VPC_VERIFY_TOPOLOGY")
    from vpc_verify import plan
    from vpc_verify import topology as topology_mod
    from vpc_verify.commands.check import sink_config

    # A bad file, a bad flag or a missing extra is a usage error at start, not a logged failure every run.
    plan.build(
        topology_mod.load(args.topology),
        mode="agent",
        aws=not args.no_aws,
        concurrency=args.concurrency,
        sink=sink_config(args, buffer_cap=max(0, args.buffer)),
    )
    host, port = parse_http(args.http) if args.http else (None, 0)
    jitter = args.jitter if args.jitter is not None else 0.1 * args.interval
    if jitter < 0:
        raise UsageError("--jitter must not be negative")
    return LoopConfig(
        topology_path=args.topology,
        interval_s=args.interval,
        jitter_s=jitter,
        deadline_s=args.deadline or min(plan.DEFAULT_DEADLINE_S["agent"], args.interval),
        concurrency=args.concurrency,
        state_file=args.state_file or default_state_file(dict(os.environ)),
        http_host=host,
        http_port=port,
        publish=args.publish,
        namespace=args.namespace,
        per_address=args.per_address_metrics,
        buffer_cap=max(0, args.buffer),
        max_runs=args.max_runs,
        aws=not args.no_aws,
    )


def handle(args: argparse.Namespace) -> int:
    """Loop until SIGTERM/SIGINT; exit 0 on a clean stop."""
    configure_logs(args.log_level)
    from vpc_verify.loop import AgentLoop

    loop_ = AgentLoop(config_from_args(args))
    asyncio_loop = asyncio.new_event_loop()

    def on_signal(signame: str) -> None:
        print(f"vpc-verify agent: {signame}, stopping", file=sys.stderr, flush=True)
        loop_.stop()
        # A worker thread (publishing, the control plane) may sit in a blocking call for longer than the
        # grace: the state file is already written, so leave without waiting for it.
        watchdog = threading.Timer(STOP_GRACE_S, os._exit, args=(0,))
        watchdog.daemon = True
        watchdog.start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio_loop.add_signal_handler(sig, on_signal, sig.name)
    try:
        asyncio_loop.run_until_complete(loop_.run_forever(ready=_announce))
        asyncio_loop.run_until_complete(asyncio_loop.shutdown_asyncgens())
    finally:
        asyncio_loop.close()  # no join of the default executor: a stuck worker must not hold up the exit
    sys.stdout.flush()
    sys.stderr.flush()
    if loop_.stopping:
        os._exit(0)  # worker threads (stuck AWS calls) would otherwise be joined at interpreter exit
    return 0


def _announce(loop_: AgentLoop) -> None:
    if loop_.http_port is not None:
        print(
            f"vpc-verify agent: serving GET /report and /healthz on http://{loop_.config.http_host}:{loop_.http_port}",
            file=sys.stderr,
            flush=True,
        )
