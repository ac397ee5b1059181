"""The endpoint URL the agent's own AWS clients use for a service, as botocore resolves it.

Region, FIPS/dual-stack settings, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are botocore's business: asking
a client for its `endpoint_url` gives the URL the publisher will really dial, so the telemetry path check
(vpc_verify.observe.telemetry) probes that. Without botocore, the standard regional URL.
"""

from __future__ import annotations

import functools
import os

# botocore service name -> the endpoint prefix of its standard URL.
PREFIXES = {"cloudwatch": "monitoring", "logs": "logs"}


def url(service: str, region: str) -> str:
    """`https://monitoring.us-east-1.amazonaws.com` for ("cloudwatch", "us-east-1"), or what the environment sets."""
    overrides = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")))
    return _url(service, region, overrides)


@functools.lru_cache(maxsize=32)
def _url(service: str, region: str, overrides: tuple[tuple[str, str], ...]) -> str:
    try:
        import botocore.session
    except ImportError:
        return f"https://{PREFIXES.get(service, service)}.{region}.amazonaws.com"
    # Credentials are not needed to know the URL (and must not be looked up here: IMDS costs time).
    client = botocore.session.Session().create_client(
        service, region_name=region, aws_access_key_id="unused", aws_secret_access_key="unused"
    )
    return str(client.meta.endpoint_url)
