"""The probes of one address (AddressProbe): what the sweep records per address and the report shows.

Apart from the report (vpc_verify.report re-exports it) so that the probes, on the way to the first packet,
do not import the report's model and its findings: those are built after the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus

if TYPE_CHECKING:
    from vpc_verify.checks.http import HttpResult
    from vpc_verify.checks.signed import SignedResult


@dataclass(frozen=True, slots=True)
class AddressProbe:
    """The probes of one address, phase by phase: TCP always; TLS when the endpoint speaks it and the connect
    succeeded; HTTP when the endpoint asks for it and the connection (and handshake) succeeded; the signed AWS
    call when the endpoint asks for it (`authorize`) and the connection (and handshake) succeeded."""

    tcp: TcpResult
    tls: TlsResult | None = None
    http: HttpResult | None = None
    signed: SignedResult | None = None

    @property
    def connected(self) -> bool:
        """The TCP connect succeeded."""
        return self.tcp.status is TcpStatus.OK

    @property
    def completed(self) -> bool:
        """The connect, and the handshake when there is one, succeeded: only then is there a latency."""
        return self.connected and (self.tls is None or self.tls.status is TlsStatus.OK)

    @property
    def tcp_ms(self) -> float | None:
        """Connect time in ms when the connect succeeded."""
        return self.tcp.ms if self.connected else None

    @property
    def tls_ms(self) -> float | None:
        """Handshake time in ms when the handshake completed."""
        return self.tls.handshake_ms if self.tls is not None and self.tls.status is TlsStatus.OK else None

    @property
    def connect_tls_ms(self) -> float:
        """Connect plus handshake time, what the latency budget limits (0 for a phase that did not finish)."""
        return (self.tcp_ms or 0.0) + (self.tls_ms or 0.0)

    @property
    def http_ms(self) -> float | None:
        """Time to the HTTP response in ms."""
        return self.http.ms if self.http is not None and self.http.status_code is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The evidence of each phase that ran."""
        t = self.tcp
        out: dict[str, Any] = {
            "tcp": {"status": t.status.value, "port": t.port, "ms": round_ms(t.ms), "error": t.error}
        }
        if self.tls is not None:
            s = self.tls
            out["tls"] = {
                "status": s.status.value,
                "ms": round_ms(s.handshake_ms),
                "version": s.version,
                "cipher": s.cipher,
                "subject": s.cert_subject,
                "names": list(s.cert_names),
                "not_after": s.cert_not_after,
                "verify_code": s.verify_code,
                "error": s.error,
            }
        if self.http is not None:
            h = self.http
            out["http"] = {
                "status": h.status.value,
                "status_code": h.status_code,
                "ms": round_ms(h.ms),
                "connect_ms": round_ms(h.connect_ms),
                "tls_ms": round_ms(h.tls_ms),
                "ttfb_ms": round_ms(h.ttfb_ms),
                "error": h.error,
            }
        if self.signed is not None:
            out["signed"] = signed_dict(self.signed)
        return out


def signed_dict(s: SignedResult) -> dict[str, Any]:
    """The signed call's evidence (the report's `signed` phase, and the findings' evidence)."""
    denial = s.denial
    return {
        "status": s.status.value,
        "call": s.call,
        "action": s.action,
        "ms": round_ms(s.ms),
        "status_code": s.status_code,
        "error_code": s.error_code,
        "message": s.message,
        "request_id": s.request_id,
        "denied_by": denial.policy.value if denial is not None else None,
        "explicit": denial.explicit if denial is not None else None,
        "via": denial.via.value if denial is not None and denial.via is not None else None,
        "policy_arn": denial.policy_arn if denial is not None else "",
        "principal": denial.principal if denial is not None else "",
        "error": s.error,
    }


def round_ms(value: float | None) -> float | None:
    """A time in ms as the report writes it (to the microsecond)."""
    return None if value is None else round(value, 3)
