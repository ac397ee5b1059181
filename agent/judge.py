"""Judgment of the data plane: observations (DNS results, probe results) in, Findings out. Pure functions.

Address findings form a ladder with one root cause each: a public answer is DNS_PUBLIC_ADDRESS (not also
outside-VPC or unexpected); a private answer outside the VPC is DNS_OUTSIDE_VPC (not also unexpected); an
in-VPC answer that is not an expected ENI is DNS_UNEXPECTED_ADDRESS. DNS_MISSING_ADDRESS is only said when
the names are served from the expected private zone (no public or foreign answer): when the wrong zone
answers, the missing ENIs are its consequence, not a second fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from vpc_verify import redact
from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.checks.http import HttpStatus
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.checks.tls import TlsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.report import AddressReport
from vpc_verify.topology import Endpoint

EXPIRY_WARNING = dt.timedelta(days=14)

_DNS_CODES = {
    DnsStatus.NXDOMAIN: Code.DNS_NXDOMAIN,
    DnsStatus.NODATA: Code.DNS_NO_ANSWER,
    DnsStatus.SERVFAIL: Code.DNS_SERVFAIL,
    DnsStatus.REFUSED: Code.DNS_SERVFAIL,
    DnsStatus.TIMEOUT: Code.DNS_TIMEOUT,
    # A malformed answer or a CNAME loop is the resolver path failing, as a recursive resolver would
    # report it with SERVFAIL.
    DnsStatus.ERROR: Code.DNS_SERVFAIL,
}

_DNS_MESSAGES = {
    DnsStatus.NXDOMAIN: "{name} does not exist (NXDOMAIN)",
    DnsStatus.NODATA: "{name} exists but has no A/AAAA record",
    DnsStatus.SERVFAIL: "the resolver failed for {name} (SERVFAIL)",
    DnsStatus.REFUSED: "the resolver refused to answer for {name} (REFUSED)",
    DnsStatus.TIMEOUT: "no answer for {name} from the resolver within {timeout} ({error})",
    DnsStatus.ERROR: "the resolver's answer for {name} was unusable: {error}",
}

_TCP_CODES = {
    TcpStatus.TIMEOUT: (Code.TCP_TIMEOUT, "connect to {target} timed out after {ms:.0f} ms (packets dropped)"),
    TcpStatus.REFUSED: (Code.TCP_REFUSED, "connect to {target} was refused: nothing listens on port {port}"),
    TcpStatus.UNREACHABLE: (Code.TCP_UNREACHABLE, "no route to {target}: {error}"),
    TcpStatus.ERROR: (Code.TCP_UNREACHABLE, "connect to {target} failed: {error}"),
}


def dns_findings(endpoint: Endpoint, results: Sequence[DnsResult], timeout_ms: int) -> list[Finding]:
    """One finding per name that did not resolve to an address."""
    findings = []
    for result in results:
        if result.status is DnsStatus.OK:
            continue
        message = _DNS_MESSAGES[result.status].format(
            name=result.name, timeout=f"{timeout_ms} ms", error=result.error or result.rcode
        )
        findings.append(
            Finding.make(
                _DNS_CODES[result.status],
                endpoint.name,
                message,
                evidence={
                    "name": result.name,
                    "status": result.status.value,
                    "rcode": result.rcode,
                    "cname_chain": list(result.cname_chain),
                    "nameserver": result.nameserver,
                    "ms": round(result.ms, 3),
                    "error": result.error,
                },
            )
        )
    return findings


def answer_findings(
    endpoint: Endpoint, addresses: Sequence[AddressReport], expected: Iterable[str], dns: Sequence[DnsResult]
) -> list[Finding]:
    """Classify every answered address (private, in the VPC, expected) and every expected one not answered."""
    findings: list[Finding] = []
    chains = {d.name: list(d.cname_chain) for d in dns}
    foreign = False
    for a in addresses:
        if not a.names:
            continue
        evidence = {"names": list(a.names), "cname_chain": {n: chains.get(n, []) for n in a.names}}
        names = ", ".join(a.names)
        if endpoint.type == "gateway":
            # A gateway service resolves to its public prefix list by design; the prefix-list check is
            # the control plane's.
            continue
        if not a.private:
            foreign = True
            findings.append(
                Finding.make(
                    Code.DNS_PUBLIC_ADDRESS,
                    endpoint.name,
                    f"{names} answered {a.address}, a public address: traffic would leave the VPC instead of "
                    "using the endpoint",
                    address=a.address,
                    evidence=evidence,
                )
            )
        elif a.in_vpc is False:
            foreign = True
            findings.append(
                Finding.make(
                    Code.DNS_OUTSIDE_VPC,
                    endpoint.name,
                    f"{names} answered {a.address}, a private address outside this VPC's CIDRs",
                    address=a.address,
                    evidence=evidence,
                )
            )
        elif a.expected is False:
            findings.append(
                Finding.make(
                    Code.DNS_UNEXPECTED_ADDRESS,
                    endpoint.name,
                    f"{names} answered {a.address}, which is not one of the endpoint's expected ENI addresses",
                    address=a.address,
                    evidence={**evidence, "expected": sorted(expected)},
                )
            )
    answered = {a.address for a in addresses if a.names}
    if answered and not foreign:
        for address in expected:
            if address not in answered:
                findings.append(
                    Finding.make(
                        Code.DNS_MISSING_ADDRESS,
                        endpoint.name,
                        f"expected ENI address {address} is not among the answers for {', '.join(d.name for d in dns)}",
                        address=address,
                        evidence={"answers": sorted(answered)},
                    )
                )
    return findings


def probe_findings(endpoint: Endpoint, a: AddressReport, now: dt.datetime) -> list[Finding]:
    """Findings from the TCP, TLS and HTTP phases of one address, and its latency against the budget."""
    findings: list[Finding] = []
    tcp = a.tcp_result
    if not a.probed or tcp is None:
        return findings
    target = f"{a.address}:{tcp.port}"
    tcp_evidence = {
        "port": tcp.port,
        "status": tcp.status.value,
        "ms": round(tcp.ms, 3),
        "error": tcp.error,
        "names": list(a.names),
    }
    if tcp.status is not TcpStatus.OK:
        code, template = _TCP_CODES[tcp.status]
        findings.append(
            Finding.make(
                code,
                endpoint.name,
                template.format(target=target, ms=tcp.ms, port=tcp.port, error=tcp.error),
                address=a.address,
                evidence=tcp_evidence,
            )
        )
        return findings

    tls = a.tls
    if tls is not None:
        tls_evidence = {
            "server_name": endpoint.server_name,
            "status": tls.status.value,
            "verify_code": tls.verify_code,
            "error": tls.error,
            "cert_subject": tls.cert_subject,
            "cert_names": list(tls.cert_names),
            "cert_not_after": tls.cert_not_after,
            "handshake_ms": None if tls.handshake_ms is None else round(tls.handshake_ms, 3),
            "peer_chain_length": tls.peer_chain_length,
            "peer_issuer": tls.peer_issuer,
            "first_bytes": tls.first_bytes,
            "protocol_offered": tls.protocol_offered,
            "bytes_received": tls.bytes_received,
        }
        if tls.status is TlsStatus.UNTRUSTED:
            findings.append(
                Finding.make(
                    Code.TLS_CERT_UNTRUSTED,
                    endpoint.name,
                    f"the certificate from {target} does not verify: {tls.error or 'untrusted chain'}",
                    address=a.address,
                    evidence=tls_evidence,
                )
            )
            return findings
        if tls.status is TlsStatus.NAME_MISMATCH:
            shown = ", ".join(tls.cert_names) or tls.cert_subject or "other names"
            findings.append(
                Finding.make(
                    Code.TLS_CERT_NAME_MISMATCH,
                    endpoint.name,
                    f"the certificate from {target} is for {shown}, not {endpoint.server_name}",
                    address=a.address,
                    evidence=tls_evidence,
                )
            )
            return findings
        if tls.status is not TlsStatus.OK:
            findings.append(
                Finding.make(
                    Code.TLS_HANDSHAKE_FAILED,
                    endpoint.name,
                    f"TLS handshake with {target} (SNI {endpoint.server_name}) "
                    f"{'timed out' if tls.status is TlsStatus.TIMEOUT else 'failed'}: {tls.error}",
                    address=a.address,
                    evidence=tls_evidence,
                )
            )
            return findings
        expiring = _expires_within(tls.cert_not_after, now)
        if expiring is not None:
            findings.append(
                Finding.make(
                    Code.TLS_CERT_EXPIRING,
                    endpoint.name,
                    f"the certificate from {target} expires on {tls.cert_not_after} (in {expiring.days} days)",
                    address=a.address,
                    evidence=tls_evidence,
                )
            )

    http = a.http
    if http is not None and endpoint.http is not None:
        shown = redact.path(endpoint.http.path)
        http_evidence = {
            "status": http.status.value,
            "status_code": http.status_code,
            "ms": round(http.ms, 3),
            "path": shown,
            "expected": list(endpoint.http.status),
            "error": redact.text(http.error),
            "stalled_status": http.stalled_status,
            "body_bytes": http.body_bytes,
        }
        if http.status is not HttpStatus.OK or http.status_code is None:
            findings.append(
                Finding.make(
                    Code.HTTP_FAILED,
                    endpoint.name,
                    f"{endpoint.http.method} {shown} on {target} "
                    f"{'timed out' if http.status is HttpStatus.TIMEOUT else 'failed'}: {redact.text(http.error)}",
                    address=a.address,
                    evidence=http_evidence,
                )
            )
        elif http.status_code not in endpoint.http.status:
            findings.append(
                Finding.make(
                    Code.HTTP_UNEXPECTED_STATUS,
                    endpoint.name,
                    f"{endpoint.http.method} {shown} on {target} answered {http.status_code}, "
                    f"expected {'/'.join(map(str, endpoint.http.status))}",
                    address=a.address,
                    evidence=http_evidence,
                )
            )

    spent = a.connect_tls_ms
    if spent > endpoint.latency_budget_ms:
        findings.append(
            Finding.make(
                Code.LATENCY_OVER_BUDGET,
                endpoint.name,
                f"connect+TLS to {target} took {spent:.1f} ms, over the {endpoint.latency_budget_ms:g} ms budget",
                address=a.address,
                evidence={"tcp_ms": a.tcp_ms, "tls_ms": a.tls_ms, "budget_ms": endpoint.latency_budget_ms, "az": a.az},
            )
        )
    return findings


def _expires_within(not_after: str | None, now: dt.datetime) -> dt.timedelta | None:
    if not not_after:
        return None
    try:
        when = dt.datetime.fromisoformat(not_after.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    left = when - now
    return left if left < EXPIRY_WARNING else None
