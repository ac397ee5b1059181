"""The port off loopback: exporter-toolkit's web-config (TLS, basic auth with bcrypt, client certificates).

The listener sits on an address of the test's own namespace (10.99.0.10 on its `lo`); clients are httpx and,
in the slow test, a real Prometheus server scraping over TLS with basic auth.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import trustme

from tests.publish.helpers import synthetic_report
from tests.shells.helpers import prometheus_binary
from vpc_verify.loop import AgentLoop, LoopConfig
from vpc_verify.report import Report
from vpc_verify.run import RunOptions
from vpc_verify.shells import web_config
from vpc_verify.shells.web_config import WebConfigError
from vpc_verify.topology import Topology

ADDRESS = "10.99.0.10"  # exists only in the test's network namespace
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def address() -> Iterator[str]:
    """ADDRESS on the namespace's `lo` for the test."""
    subprocess.run(["ip", "address", "add", f"{ADDRESS}/32", "dev", "lo"], check=True, capture_output=True)
    try:
        yield ADDRESS
    finally:
        subprocess.run(["ip", "address", "del", f"{ADDRESS}/32", "dev", "lo"], capture_output=True)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def files(tmp_path: Path, ca: trustme.CA) -> Path:
    """server.crt/key for the address and localhost, ca.pem, and a client certificate; returns the folder."""
    server = ca.issue_cert(ADDRESS, "127.0.0.1", "localhost", "agent.internal")
    server.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    server.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client = ca.issue_cert("prometheus.internal")
    client.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    other = ca.issue_cert("someone-else.internal")
    other.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "other.pem"))
    return tmp_path


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def _write(folder: Path, text: str) -> Path:
    path = folder / "web-config.yml"
    path.write_text(text)
    return path


def _basic(folder: Path) -> Path:
    return _write(
        folder,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n"
        f"basic_auth_users:\n  prometheus: '{_hash('s3cret')}'\n",
    )


async def _synthetic(topology: Topology, options: RunOptions) -> Report:
    return synthetic_report()


@pytest.fixture
async def agent(tmp_path: Path, files: Path, address: str) -> AsyncIterator[AgentLoop]:
    """The agent loop with a TLS listener on ADDRESS (basic auth) and plain HTTP on loopback."""
    topo = tmp_path / "topology.yaml"
    topo.write_text("version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example.com]}\n")
    loop = AgentLoop(
        LoopConfig(
            topology_path=str(topo),
            interval_s=30.0,
            http_host="127.0.0.1",
            https_host=address,
            web_config=str(_basic(files)),
        ),
        run_fn=_synthetic,
    )
    task = asyncio.create_task(loop.run_forever())
    for _ in range(100):
        await asyncio.sleep(0.02)
        if loop.state.runs >= 1:
            break
    yield loop
    loop.stop()
    await asyncio.wait_for(task, 5)


def _client(files: Path, **kw: Any) -> httpx.AsyncClient:
    import ssl

    ctx = ssl.create_default_context(cafile=str(files / "ca.pem"))
    if "cert" in kw:
        ctx.load_cert_chain(kw.pop("cert"))
    return httpx.AsyncClient(verify=ctx, timeout=5, **kw)


# --- the file ---------------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("basic_auth_users: {}\n", "tls_server_config: a mapping (the TLS certificate and key are required)"),
        ("tls_server_config:\n  cert_file: server.crt\n", "tls_server_config.key_file: one of key or key_file"),
        ("tls_server_config: {cert_file: nope.crt, key_file: server.key}\n", "tls_server_config.cert_file"),
        ("tls_server_config: {cert_file: server.crt, key_file: server.key, cipher_suites: [X]}\n", "not supported"),
        ("tls_server_config: {cert_file: server.crt, key_file: server.key}\nrate_limit: {burst: 1}\n", "rate_limit"),
        (
            "tls_server_config: {cert_file: server.crt, key_file: server.key,"
            " client_auth_type: RequireAnyClientCert}\n",
            "no authentication",
        ),
        (
            "tls_server_config: {cert_file: server.crt, key_file: server.key, client_ca_file: ca.pem}\n",
            "client auth type",
        ),
        ("tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: TLS14}\n", "min_version"),
        ("tls_server_config: {cert_file: server.crt, key_file: server.key, ciphers: x}\n", "tls_server_config.ciphers"),
        (
            "tls_server_config: {cert_file: server.crt, key_file: server.key}\nbasic_auth_users: {u: plaintext}\n",
            "basic_auth_users.u: a bcrypt hash",
        ),
        (
            "tls_server_config: {cert_file: server.crt, key_file: server.key}\n"
            "http_server_config: {headers: {X-Frame-Options: allow}}\n",
            "X-Frame-Options: one of deny, sameorigin",
        ),
        ("tls_server_config: {cert_file: server.crt, key_file: server.crt}\n", "certificate, key and CAs that load"),
        ("tls_server_config: [\n", "YAML"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_and_key(files: Path, text: str, where: str) -> None:
    path = _write(files, text)
    with pytest.raises(WebConfigError) as err:
        web_config.load(path)
    message = str(err.value)
    assert message.startswith(str(path)) and where in message and "\n" not in message, message


@pytest.mark.unit
def test_the_exporter_toolkit_sample_is_read(files: Path) -> None:
    config = web_config.load(
        _write(
            files,
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
            "  client_allowed_sans: [prometheus.internal]\n  min_version: TLS12\n  max_version: TLS13\n"
            "  prefer_server_cipher_suites: true\nhttp_server_config:\n  http2: false\n"
            "basic_auth_users:\n  alice: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi\n",
        )
    )
    assert config.authenticates and set(config.users) == {"alice"}
    assert config.client_allowed_sans == frozenset({"prometheus.internal"})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--http", "0.0.0.0:9180"], "--http: 0.0.0.0 is not a loopback address"),
        (["--https", "0.0.0.0:9443"], "--https needs --web-config FILE"),
        (["--web-config", "x.yml"], "--web-config configures --https"),
        (["--https", "0.0.0.0:9443", "--web-config", "NOAUTH"], "is required: the report is never served off"),
        (["--https", "0.0.0.0:9443", "--web-config", "missing.yml"], "missing.yml: a readable file"),
    ],
)
def test_the_cli_refuses_an_unauthenticated_network_port(
    tmp_path: Path, files: Path, argv: list[str], expected: str
) -> None:
    topo = tmp_path / "topology.yaml"
    topo.write_text("version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example.com]}\n")
    noauth = _write(files, "tls_server_config: {cert_file: server.crt, key_file: server.key}\n")
    argv = [str(noauth) if a == "NOAUTH" else a for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", "vpc_verify", "agent", "-t", str(topo), *argv],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr, done.stderr


# --- a real client over TLS -------------------------------------------------------------------------------


@pytest.mark.netns
async def test_basic_auth_over_tls_off_loopback(agent: AgentLoop, files: Path, address: str) -> None:
    url = f"https://{address}:{agent.https_port}"
    async with _client(files) as client:
        anonymous = await client.get(f"{url}/report")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic")
        assert b"sqs" not in anonymous.content
        wrong = await client.get(f"{url}/metrics", auth=("prometheus", "guess"))
        assert wrong.status_code == 401
        stranger = await client.get(f"{url}/metrics", auth=("root", "s3cret"))
        assert stranger.status_code == 401
        metrics = await client.get(f"{url}/metrics", auth=("prometheus", "s3cret"))
        assert metrics.status_code == 200 and b'probe_success{az="us-east-1a",endpoint="sqs"} 1.0' in metrics.content
        assert metrics.headers["strict-transport-security"] == "max-age=31536000"
        report = await client.get(f"{url}/report", auth=("prometheus", "s3cret"))
        assert report.status_code == 200 and json.loads(report.content)["endpoints"][0]["name"] == "sqs"
        rebound = await client.get(f"{url}/report", auth=("prometheus", "s3cret"), headers={"Host": "attacker.example"})
        assert rebound.status_code == 421 and rebound.content == b""
    # Plain HTTP to the TLS port: no answer of ours at all.
    async with httpx.AsyncClient(timeout=3) as plain:
        with pytest.raises(httpx.HTTPError):
            await plain.get(f"http://{address}:{agent.https_port}/report")
    # Loopback stays plain and open to this machine.
    async with httpx.AsyncClient(timeout=3) as local:
        assert (await local.get(f"http://127.0.0.1:{agent.http_port}/metrics")).status_code == 200


@pytest.mark.netns
async def test_client_certificates_and_allowed_sans(tmp_path: Path, files: Path, address: str) -> None:
    from tests.shells.helpers import Routes
    from vpc_verify.shells.status_http import Listener, StatusServer
    from vpc_verify.shells.web_config import WebConfigSource

    path = _write(
        files,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
        "  client_allowed_sans: [prometheus.internal]\n",
    )
    server = StatusServer(Routes(), [Listener(address, 0, WebConfigSource(str(path)))])
    await server.start()
    url = f"https://{address}:{server.addresses[0][1]}/metrics"
    try:
        async with _client(files, cert=str(files / "client.pem")) as client:
            assert (await client.get(url)).status_code == 200
        async with _client(files, cert=str(files / "other.pem")) as client:
            with pytest.raises(httpx.HTTPError):  # a verified certificate whose SAN is not listed: closed
                await client.get(url)
        async with _client(files) as client:
            with pytest.raises(httpx.HTTPError):  # no certificate: the handshake fails
                await client.get(url)
    finally:
        await server.close()


@pytest.mark.netns
async def test_a_renewed_certificate_and_new_users_are_picked_up(files: Path, address: str, ca: trustme.CA) -> None:
    from tests.shells.helpers import Routes
    from vpc_verify.shells.status_http import Listener, StatusServer
    from vpc_verify.shells.web_config import WebConfigSource

    path = _basic(files)
    source = WebConfigSource(str(path))
    server = StatusServer(Routes(), [Listener(address, 0, source)])
    await server.start()
    url = f"https://{address}:{server.addresses[0][1]}/healthz"
    try:
        async with _client(files) as client:
            assert (await client.get(url, auth=("prometheus", "s3cret"))).status_code == 200
        renewed = trustme.CA()
        leaf = renewed.issue_cert(ADDRESS)
        leaf.cert_chain_pems[0].write_to_path(str(files / "server.crt"))
        leaf.private_key_pem.write_to_path(str(files / "server.key"))
        path.write_text(path.read_text().replace("prometheus:", "scraper:"))
        await asyncio.sleep(web_config.RECHECK_S + 0.1)
        renewed.cert_pem.write_to_path(str(files / "ca.pem"))
        async with _client(files) as client:
            assert (await client.get(url, auth=("scraper", "s3cret"))).status_code == 200
            assert (await client.get(url, auth=("prometheus", "s3cret"))).status_code == 401
        # A broken edit keeps the last good file.
        path.write_text("tls_server_config: [\n")
        await asyncio.sleep(web_config.RECHECK_S + 0.1)
        async with _client(files) as client:
            assert (await client.get(url, auth=("scraper", "s3cret"))).status_code == 200
    finally:
        await server.close()


# --- a real Prometheus ------------------------------------------------------------------------------------


@pytest.mark.netns
@pytest.mark.slow
async def test_prometheus_scrapes_over_tls_with_basic_auth(
    agent: AgentLoop, files: Path, address: str, tmp_path: Path
) -> None:
    """Prometheus 2.x scrapes the agent off loopback: TLS verified against the CA, basic auth; a wrong password
    is a failed scrape (up 0)."""
    target = f"{address}:{agent.https_port}"
    (tmp_path / "password").write_text("s3cret")
    (tmp_path / "wrong").write_text("guess")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        + "".join(
            f"  - job_name: {job}\n    scheme: https\n    tls_config: {{ca_file: {files / 'ca.pem'}}}\n"
            f"    basic_auth: {{username: prometheus, password_file: {tmp_path / secret}}}\n"
            f"    static_configs: [{{targets: ['{target}']}}]\n"
            for job, secret in (("agent", "password"), ("intruder", "wrong"))
        )
    )
    web = "127.0.0.1:19090"
    prom = subprocess.Popen(
        [
            str(prometheus_binary("prometheus")),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        results: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=3) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                query = urllib.parse.quote('up or probe_success{endpoint="sqs",az="us-east-1a"}')
                try:
                    answer = (await client.get(f"http://{web}/api/v1/query?query={query}")).json()
                except (httpx.HTTPError, ValueError):
                    continue
                results = {
                    f"{r['metric']['__name__']}/{r['metric'].get('job')}": float(r["value"][1])
                    for r in answer.get("data", {}).get("result", [])
                }
                if {"up/agent", "up/intruder", "probe_success/agent"} <= set(results):
                    break
        assert results.get("up/agent") == 1.0, results
        assert results.get("probe_success/agent") == 1.0, results
        assert results.get("up/intruder") == 0.0, results
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prom.kill()
