"""Route 53 Profiles for the emulator: moto 5.2.5 has no route53profiles service, so the patched server answers its
REST-JSON API itself (tests/testbed/emulator_server.py routes a request here when its SigV4 credential scope names
`route53profiles`).

CreateProfile (`POST /profile`), AssociateProfile (`POST /profileassociation`: a VPC takes one Profile at most, a
second is a ConflictException), AssociateResourceToProfile (`POST /profileresourceassociation`), ListProfileAssociations
(`GET /profileassociations?resourceId=&profileId=`), ListProfileResourceAssociations
(`GET /profileresourceassociations/profileid/{ProfileId}`, an unknown Profile a ResourceNotFoundException), with the
fields of the Route 53 Profiles API reference; everything is COMPLETE at once (AWS passes through CREATING). Any
resource ARN is accepted, as a Profile shared from another account holds that account's zones, which this account
cannot read (on AWS GetHostedZone answers AccessDenied; here NoSuchHostedZone). ResourceType is derived from the ARN
(HOSTED_ZONE, RESOLVER_RULE, FIREWALL_RULE_GROUP, VPC_ENDPOINT): not verified against a live account, and vpc-verify
reads the ARN, not the type. State is per process and cleared by moto's reset.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

ACCOUNT = "123456789012"
STATE: dict[str, dict[str, dict[str, Any]]] = {"profiles": {}, "associations": {}, "resources": {}}
TYPES = {
    ":hostedzone/": "HOSTED_ZONE",
    ":resolver-rule/": "RESOLVER_RULE",
    ":firewall-rule-group/": "FIREWALL_RULE_GROUP",
    ":vpc-endpoint/": "VPC_ENDPOINT",
}

StartResponse = Callable[..., Any]


def wanted(environ: dict[str, Any]) -> bool:
    """A request for Route 53 Profiles (its SigV4 credential scope names the service)."""
    return "/route53profiles/aws4_request" in str(environ.get("HTTP_AUTHORIZATION", ""))


def reset() -> None:
    """Forget every Profile (with moto's reset)."""
    for table in STATE.values():
        table.clear()


def _id(prefix: str) -> str:
    return prefix + "".join(random.choice(string.hexdigits.lower()) for _ in range(17))


def _region(environ: dict[str, Any]) -> str:
    scope = str(environ.get("HTTP_AUTHORIZATION", "")).split("Credential=", 1)[-1].split("/")
    return scope[2] if len(scope) > 2 else "us-east-1"


def _answer(start_response: StartResponse, status: str, body: dict[str, Any], error: str = "") -> Iterable[bytes]:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if error:
        headers.append(("x-amzn-ErrorType", error))
    start_response(status, headers)
    return [data]


def _error(start_response: StartResponse, status: str, code: str, message: str) -> Iterable[bytes]:
    return _answer(start_response, status, {"message": message, "Message": message}, code)


def handle(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Answer one Route 53 Profiles request."""
    method, path = str(environ.get("REQUEST_METHOD", "GET")), unquote(str(environ.get("PATH_INFO", "")))
    query = {k: v[0] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size) or b"{}") if size else {}
    region = _region(environ)
    if method == "POST" and path == "/profile":
        ident = _id("rp-")
        profile = {
            "Id": ident,
            "Arn": f"arn:aws:route53profiles:{region}:{ACCOUNT}:profile/{ident}",
            "Name": body.get("Name", ""),
            "OwnerId": ACCOUNT,
            "Status": "COMPLETE",
            "ShareStatus": "NOT_SHARED",
            "ClientToken": body.get("ClientToken", ""),
        }
        STATE["profiles"][ident] = profile
        return _answer(start_response, "200 OK", {"Profile": profile})
    if method == "POST" and path == "/profileassociation":
        profile_id, vpc_id = str(body.get("ProfileId", "")), str(body.get("ResourceId", ""))
        if profile_id not in STATE["profiles"]:
            return _error(start_response, "404 Not Found", "ResourceNotFoundException", f"no Profile {profile_id}")
        if any(a["ResourceId"] == vpc_id for a in STATE["associations"].values()):
            return _error(
                start_response, "409 Conflict", "ConflictException", f"{vpc_id} already has a Profile associated"
            )
        association = {
            "Id": _id("rpassoc-"),
            "Name": body.get("Name", ""),
            "OwnerId": ACCOUNT,
            "ProfileId": profile_id,
            "ResourceId": vpc_id,
            "Status": "COMPLETE",
            "StatusMessage": "Created Profile Association",
        }
        STATE["associations"][association["Id"]] = association
        return _answer(start_response, "200 OK", {"ProfileAssociation": association})
    if method == "POST" and path == "/profileresourceassociation":
        profile_id, arn = str(body.get("ProfileId", "")), str(body.get("ResourceArn", ""))
        if profile_id not in STATE["profiles"]:
            return _error(start_response, "404 Not Found", "ResourceNotFoundException", f"no Profile {profile_id}")
        resource = {
            "Id": _id("rpr-"),
            "Name": body.get("Name", ""),
            "OwnerId": ACCOUNT,
            "ProfileId": profile_id,
            "ResourceArn": arn,
            "ResourceType": next((t for key, t in TYPES.items() if key in arn), "UNKNOWN"),
            "Status": "COMPLETE",
            "StatusMessage": "Created Profile Resource Association",
        }
        if body.get("ResourceProperties"):
            resource["ResourceProperties"] = body["ResourceProperties"]
        STATE["resources"][resource["Id"]] = resource
        return _answer(start_response, "200 OK", {"ProfileResourceAssociation": resource})
    if method == "GET" and path == "/profileassociations":
        found = [
            a
            for a in STATE["associations"].values()
            if query.get("resourceId") in (None, a["ResourceId"]) and query.get("profileId") in (None, a["ProfileId"])
        ]
        return _answer(start_response, "200 OK", {"ProfileAssociations": found})
    prefix = "/profileresourceassociations/profileid/"
    if method == "GET" and path.startswith(prefix):
        profile_id = path[len(prefix) :]
        if profile_id not in STATE["profiles"]:
            return _error(start_response, "404 Not Found", "ResourceNotFoundException", f"no Profile {profile_id}")
        found = [r for r in STATE["resources"].values() if r["ProfileId"] == profile_id]
        return _answer(start_response, "200 OK", {"ProfileResourceAssociations": found})
    return _error(start_response, "404 Not Found", "ResourceNotFoundException", f"{method} {path}")
