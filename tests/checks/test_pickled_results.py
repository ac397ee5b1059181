"""Probe results cross from a worker process to the run's as pickles: every field must survive the trip."""

from __future__ import annotations

import pickle

from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus


def test_results_round_trip_with_every_field() -> None:
    results = [
        TcpResult("10.0.1.10", 443, TcpStatus.TIMEOUT, 2000.5, "no answer", "10.0.0.5", 40123),
        TlsResult(
            TlsStatus.UNTRUSTED,
            handshake_ms=3.25,
            version="TLSv1.3",
            cipher="TLS_AES_256_GCM_SHA384",
            cert_subject="CN=sqs.us-east-1.amazonaws.com",
            cert_names=("sqs.us-east-1.amazonaws.com", "*.sqs.us-east-1.amazonaws.com"),
            cert_not_after="2027-01-01T00:00:00+00:00",
            verify_code=20,
            error="unable to get local issuer certificate",
            peer_chain_length=1,
            peer_issuer="CN=Intermediate",
            first_bytes="",
            protocol_offered="",
            bytes_received=2048,
        ),
        DnsResult(
            "sqs.us-east-1.amazonaws.com",
            DnsStatus.OK,
            "NOERROR",
            ("10.0.1.10", "10.0.2.10"),
            ("vpce-1.sqs.us-east-1.vpce.amazonaws.com",),
            1.5,
            nameserver="10.0.0.2",
            error="",
            ttl=60,
        ),
    ]
    for result in results:
        again = pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))
        assert again == result
        assert type(again) is type(result)
