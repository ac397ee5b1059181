"""`vpc-verify agent`: the EC2 agent loop (vpc_verify.loop) as a long-running command, for systemd.

SIGTERM or SIGINT stops it within 5 s even in the middle of a run: the run is cancelled at once, and if a
worker thread is stuck in a blocking call (an AWS request) the process exits hard after a grace period,
since the last report is already on disk. SIGHUP re-reads the topology, the trust stores and the web-config
before the next run. At start the soft limit on open files is raised to the hard one, so a flood of
connections cannot starve the checks of descriptors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import resource
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from vpc_verify.commands.check import add_authorize_argument, add_output_arguments, add_policy_arguments, positive
from vpc_verify.errors import UsageError
from vpc_verify.logs import configure as configure_logs
from vpc_verify.publish.config import DEFAULT_BUFFER_CAP
from vpc_verify.ranges import BUFFER_RANGE, CONCURRENCY_RANGE, JITTER_SECONDS_RANGE
from vpc_verify.run import DEFAULT_CONCURRENCY

if TYPE_CHECKING:  # the loop (its HTTP server, structlog) is imported only to run the agent, not to check
    from vpc_verify.loop import AgentLoop, LoopConfig

STOP_GRACE_S = 4.0  # SIGTERM to exit stays under systemd's and the 5 s


def register(sub: Any) -> None:
    """Add the `agent` subcommand."""
    p = sub.add_parser(
        "agent",
        help="run the checks every interval, forever (the EC2 agent)",
        description="Run every check of a topology (or of one derived from a fleet policy for the VPC the agent "
        "runs in, again every run) every --interval seconds, publish metrics, keep the last "
        "report in a file (and on loopback HTTP: GET /report, /healthz, /metrics; with --https and --web-config "
        "also off loopback, behind TLS and credentials). Survives any single run's failure; stops within 5 s on "
        "SIGTERM; re-reads its files on SIGHUP.",
    )
    p.add_argument(
        "-t",
        "--topology",
        default=os.environ.get("VPC_VERIFY_TOPOLOGY"),
        help="topology file, re-read when it changes or on SIGHUP (default: $VPC_VERIFY_TOPOLOGY)",
    )
    add_policy_arguments(p)
    p.add_argument("--interval", type=positive, default=60.0, metavar="SECONDS", help="seconds between runs")
    p.add_argument(
        "--jitter",
        type=JITTER_SECONDS_RANGE.cli_type(),
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
    p.add_argument("--concurrency", type=CONCURRENCY_RANGE.cli_type(), default=DEFAULT_CONCURRENCY, metavar="N")
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
        help="serve GET /report, /healthz and /metrics in plain HTTP on this loopback address",
    )
    p.add_argument(
        "--https",
        default=None,
        metavar="HOST:PORT",
        help="serve them with TLS and authentication on this address (any, e.g. for Prometheus on another "
        "host); needs --web-config",
    )
    p.add_argument(
        "--web-config",
        default=None,
        metavar="FILE",
        help="TLS and basic auth for --https, in the web-config format of Prometheus exporters "
        "(tls_server_config, basic_auth_users with bcrypt hashes)",
    )
    p.add_argument(
        "--http-allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer besides loopback addresses and localhost (repeatable); others get 421",
    )
    p.add_argument(
        "--http-max-connections",
        type=int,
        default=256,
        metavar="N",
        help="open HTTP connections at most (default 256); past it the longest-waiting one is closed",
    )
    p.add_argument(
        "--http-write-timeout",
        type=positive,
        default=10.0,
        metavar="SECONDS",
        help="a client that does not read for this long is dropped (default 10)",
    )
    add_authorize_argument(p)
    add_output_arguments(p, files=False)
    p.add_argument(
        "--buffer",
        type=BUFFER_RANGE.cli_type(),
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
                f"--http: {host} is not a loopback address; plain HTTP is served only on 127.0.0.1 or ::1 "
                "(for another address: --https HOST:PORT --web-config FILE)"
            )
    return host, number


def parse_https(text: str) -> tuple[str, int]:
    """HOST:PORT for the TLS listener: any address of this machine."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        number = int(port)
        if not sep or not host or not 0 <= number <= 65535:
            raise ValueError
    except ValueError:
        raise UsageError(f"--https: expected HOST:PORT such as 0.0.0.0:9180, got {text!r}") from None
    return host, number


def _web_config(args: argparse.Namespace) -> tuple[str | None, int, str | None]:
    if args.web_config and not args.https:
        raise UsageError("--web-config configures --https: pass --https HOST:PORT too")
    if not args.https:
        return None, 0, None
    if not args.web_config:
        raise UsageError(
            "--https needs --web-config FILE: TLS and credentials (the report is never served off loopback without)"
        )
    from vpc_verify.shells.web_config import WebConfigError
    from vpc_verify.shells.web_config import load as load_web_config

    try:
        web = load_web_config(args.web_config)
    except WebConfigError as exc:
        raise UsageError(f"--web-config: {exc}") from None
    if not web.authenticates:
        raise UsageError(
            f"--web-config: {args.web_config}: basic_auth_users or client_auth_type RequireAndVerifyClientCert "
            "is required: the report is never served off loopback without authentication"
        )
    host, port = parse_https(args.https)
    return host, port, args.web_config


def raise_fd_limit() -> tuple[int, int, str | None]:
    """Raise the soft limit on open files to the hard one; (soft, hard, why not) for the log."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, hard, None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError) as exc:
        return soft, hard, str(exc)
    return target, hard, None


def config_from_args(args: argparse.Namespace) -> LoopConfig:
    """The loop's configuration from the command line."""
    from vpc_verify import locations, plan
    from vpc_verify.commands.check import sink_config
    from vpc_verify.loop import LoopConfig, default_state_file

    sink = sink_config(args, buffer_cap=max(0, args.buffer))
    # A bad file, a bad flag or a missing extra is a usage error at start, not a logged failure every run.
    if args.policy:
        _check_policy_source(args)
    else:
        if not args.topology:
            raise UsageError(
                "no topology: pass --topology FILE (or set VPC_VERIFY_TOPOLOGY), or --policy FILE|ssm:NAME|s3://B/K "
                "(or set VPC_VERIFY_POLICY)"
            )
        if args.vpc_id:
            raise UsageError("--vpc-id names the VPC of --policy: leave it out with --topology")
        plan.build(
            locations.load(args.topology),
            mode="agent",
            aws=not args.no_aws,
            concurrency=args.concurrency,
            sink=sink,
            authorize=args.authorize,
        )
    host, port = parse_http(args.http) if args.http else (None, 0)
    https_host, https_port, web_config = _web_config(args)
    if args.http_max_connections < 1:
        raise UsageError("--http-max-connections must be at least 1")
    jitter = args.jitter if args.jitter is not None else 0.1 * args.interval
    if jitter < 0:
        raise UsageError("--jitter must not be negative")
    return LoopConfig(
        topology_path=args.topology if not args.policy else "",
        policy=args.policy or None,
        vpc_id=args.vpc_id,
        region=args.region,
        interval_s=args.interval,
        jitter_s=jitter,
        deadline_s=args.deadline or min(plan.DEFAULT_DEADLINE_S["agent"], args.interval),
        concurrency=args.concurrency,
        state_file=args.state_file or default_state_file(dict(os.environ)),
        http_host=host,
        http_port=port,
        https_host=https_host,
        https_port=https_port,
        web_config=web_config,
        http_allow_hosts=tuple(args.http_allow_host),
        http_max_connections=args.http_max_connections,
        http_write_timeout_s=args.http_write_timeout,
        publish=args.publish,
        namespace=args.namespace,
        per_address=args.per_address_metrics,
        metrics=args.metrics,
        buffer_cap=max(0, args.buffer),
        max_runs=args.max_runs,
        aws=not args.no_aws,
        authorize=args.authorize,
    )


def _check_policy_source(args: argparse.Namespace) -> None:
    """--policy: the policy is read now (a bad one is exit 2 at start) and the topology is derived every run."""
    if args.topology:
        raise UsageError("--topology is a whole topology: leave out --policy (or --topology)")
    if args.no_aws:
        raise UsageError("--policy derives the topology from what AWS reports: --no-aws leaves nothing to check")
    from vpc_verify import plan
    from vpc_verify.fleet import resolve

    plan.require_boto3("a topology derived from a fleet policy (--policy)", "pass --topology FILE")
    resolve.cached_policy(args.policy, region=args.region)


def handle(args: argparse.Namespace) -> int:
    """Loop until SIGTERM/SIGINT; exit 0 on a clean stop."""
    configure_logs(args.log_level)
    config = config_from_args(args)
    soft, hard, why = raise_fd_limit()
    if why is not None:
        from vpc_verify.logs import get_logger

        get_logger(component="agent").warning("fd_limit_not_raised", soft=soft, hard=hard, error=why)
    from vpc_verify.loop import AgentLoop

    loop_ = AgentLoop(config)
    asyncio_loop = asyncio.new_event_loop()

    def on_signal(signame: str) -> None:
        loop_.stop()  # first: a closed or broken stderr must not keep the agent from stopping
        with contextlib.suppress(OSError, ValueError):
            print(f"vpc-verify agent: {signame}, stopping", file=sys.stderr, flush=True)
        # A worker thread (publishing, the control plane) may sit in a blocking call for longer than the
        # grace: the state file is already written, so leave without waiting for it.
        watchdog = threading.Timer(STOP_GRACE_S, os._exit, args=(0,))
        watchdog.daemon = True
        watchdog.start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio_loop.add_signal_handler(sig, on_signal, sig.name)
    asyncio_loop.add_signal_handler(signal.SIGHUP, loop_.reload)
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
    cfg = loop_.config
    for scheme, host, port in (("http", cfg.http_host, loop_.http_port), ("https", cfg.https_host, loop_.https_port)):
        if host is not None and port is not None:
            shown = f"[{host}]" if ":" in host else host
            print(
                f"vpc-verify agent: serving GET /report, /healthz and /metrics on {scheme}://{shown}:{port}",
                file=sys.stderr,
                flush=True,
            )
