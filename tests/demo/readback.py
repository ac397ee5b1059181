"""Read the run's metrics back from the (emulated) CloudWatch and print them: what an alarm would see."""

from __future__ import annotations

import datetime as dt
import sys

import boto3


def main(namespace: str = "VpcVerify") -> int:
    """Print every metric of `namespace` with its latest value; exit 1 when none came back."""
    cw = boto3.client("cloudwatch")
    metrics = [m for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace) for m in page["Metrics"]]
    if not metrics:
        print(f"no metrics in namespace {namespace}", file=sys.stderr)
        return 1
    now = dt.datetime.now(dt.UTC)
    queries = [
        {"Id": f"m{i}", "MetricStat": {"Metric": m, "Period": 60, "Stat": "Maximum"}, "ReturnData": True}
        for i, m in enumerate(metrics)
    ]
    values: dict[str, float | None] = {}
    for start in range(0, len(queries), 500):
        batch = queries[start : start + 500]
        result = cw.get_metric_data(
            MetricDataQueries=batch, StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1)
        )
        for r in result["MetricDataResults"]:
            values[r["Id"]] = r["Values"][0] if r["Values"] else None
    rows = []
    for i, m in enumerate(metrics):
        dims = ",".join(f"{d['Name']}={d['Value']}" for d in sorted(m.get("Dimensions", []), key=lambda d: d["Name"]))
        rows.append((m["MetricName"], dims, values.get(f"m{i}")))
    rows.sort(key=lambda r: (r[1], r[0]))
    print(f"\nCloudWatch {namespace}: {len(rows)} metrics read back from {cw.meta.endpoint_url}")
    print(f"  {'metric':<20} {'dimensions':<34} value")
    for name, dims, value in rows:
        if name in ("Healthy", "DnsPrivate", "Reachable", "Findings", "RunHealthy", "EndpointsUnhealthy"):
            shown = "-" if value is None else f"{value:g}"
            print(f"  {name:<20} {dims or '(run)':<34} {shown}")
    print("  (latency metrics too: DnsLatency, ConnectLatency, TlsLatency, HttpLatency, RunDuration)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
