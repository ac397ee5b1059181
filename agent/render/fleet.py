"""The fleet report as text (`vpc-verify fleet`): one line per VPC, unhealthy first, then what each lacks."""

from __future__ import annotations

from vpc_verify.fleet.summary import Fleet, VpcResult

MAX_NAMES = 6
_HEAD = ("STATUS", "ACCOUNT", "REGION", "VPC", "UNHEALTHY", "LAST SEEN", "WHAT")


def render(fleet: Fleet) -> str:
    """The fleet as a table, then each unhealthy VPC's missing endpoints with the commands that create them."""
    counts = ", ".join(f"{fleet.count(s)} {s}" for s in ("unhealthy", "silent", "healthy"))
    lines = [f"fleet: {len(fleet.vpcs)} VPCs: {counts} (silent: nothing for {fleet.stale_s:.0f} s)"]
    rows = [_HEAD, *(_row(v) for v in fleet.vpcs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEAD) - 1)]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    for v in fleet.vpcs:
        for m in v.seen.missing:
            lines.append(f"  {v.seen.vpc_id} lacks {m.endpoint} ({m.type} {m.service}): {m.command}")
    for note in fleet.notes:
        lines.append(f"note: {note}")
    if not fleet.vpcs:
        lines.append("no VPC seen: no report at --reports and no RunHealthy metric in the window")
    return "\n".join(lines).rstrip() + "\n"


def _row(v: VpcResult) -> tuple[str, ...]:
    s = v.seen
    total = "?" if s.endpoints is None else str(s.endpoints)
    count = s.endpoints_unhealthy if s.endpoints_unhealthy is not None else len(s.unhealthy_endpoints)
    unhealthy = f"{count}/{total}" if v.status != "silent" else "-"
    names = list(s.unhealthy_endpoints[:MAX_NAMES]) + (["..."] if len(s.unhealthy_endpoints) > MAX_NAMES else [])
    what = ", ".join(names)
    if s.codes:
        what = (what + "  " if what else "") + " ".join(s.codes)
    if v.status == "silent":
        what = "no result in the window: is the monitor running and publishing?"
    seen = s.at.strftime("%Y-%m-%d %H:%M:%SZ")
    return (v.status.upper(), s.account or "-", s.region or "-", s.vpc_id, unhealthy, seen, what)
