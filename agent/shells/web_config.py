"""The web-config file of Prometheus exporters (exporter-toolkit's format): TLS and basic auth for the agent's port.

The same file an operator already writes for node_exporter serves here:

    tls_server_config:
      cert_file: server.crt          # relative paths are read beside this file
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # optional: client certificates
      client_ca_file: clients.pem
      client_allowed_sans: [prometheus.internal]    # optional: only these client certificate SANs
      min_version: TLS12
    http_server_config:
      headers: {Strict-Transport-Security: max-age=31536000}
    basic_auth_users:
      prometheus: $2y$10$...         # bcrypt (htpasswd -nBC 10 "" | tr -d ':\\n')

Keys vpc-verify does not implement (`cipher_suites`, `curve_preferences`, `rate_limit`, the client-auth types
that accept an unverified certificate) are refused by name rather than silently ignored. The file is small and
is checked for changes (by stat, no open) at most once a second: users, headers and a renewed certificate take
effect for the next connection; other TLS settings need a restart. A broken edit keeps the last good file and is
logged once per change.

Basic auth follows exporter-toolkit: one bcrypt comparison at a time (bcrypt is deliberately slow, ~70 ms at cost
10), a fixed dummy hash for unknown users so timing does not reveal names, and the outcome cached per (user,
hash, password digest). `bcrypt` is the optional `web` extra, imported when a file names users.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 64 * 1024
RECHECK_S = 1.0
AUTH_CACHE_SIZE = 256
MAX_AUTH_WAITERS = 8  # requests queued for a bcrypt comparison; more are answered 429 at once

# exporter-toolkit's: a bcrypt hash of "fakepassword", compared against for an unknown user.
_DUMMY_HASH = b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
_BCRYPT = re.compile(rb"^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$")
_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_CLIENT_AUTH = {
    "": ssl.CERT_NONE,
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# exporter-toolkit accepts only these headers, some only with these values.
_HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
_TLS_KEYS = {
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "prefer_server_cipher_suites",
}
_NOT_IMPLEMENTED = {
    "tls_server_config.cipher_suites": "the TLS 1.2 cipher suites are OpenSSL's defaults",
    "tls_server_config.curve_preferences": "the curves are OpenSSL's defaults",
    "rate_limit": "the agent bounds connections itself (--http-max-connections)",
}


class WebConfigError(ValueError):
    """A web-config file is unreadable or invalid: names the file, the key path and what was expected."""

    def __init__(self, source: str, path: str, expected: str) -> None:
        self.source = source
        self.path = path
        self.expected = expected
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {expected}")


@dataclass(frozen=True, slots=True)
class WebConfig:
    """One parsed web-config file."""

    source: str
    cert_pem: bytes
    key_pem: bytes
    cert_file: str | None = None  # loaded from the file when given (the key never touches another file)
    key_file: str | None = None
    client_ca_pem: bytes | None = None
    client_auth: ssl.VerifyMode = ssl.CERT_NONE
    client_allowed_sans: frozenset[str] | None = None
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    prefer_server_ciphers: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    users: Mapping[str, bytes] = field(default_factory=dict)
    watched: tuple[str, ...] = ()  # the files it was read from

    @property
    def authenticates(self) -> bool:
        """Every request must prove who sends it: basic auth users, or a verified client certificate."""
        return bool(self.users) or self.client_auth is ssl.CERT_REQUIRED

    def ssl_context(self) -> ssl.SSLContext:
        """A server context for this file."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = self.min_version
        ctx.maximum_version = self.max_version
        if self.prefer_server_ciphers:
            ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        _load_chain(ctx, self)
        ctx.verify_mode = self.client_auth
        if self.client_ca_pem is not None:
            ctx.load_verify_locations(cadata=self.client_ca_pem.decode("ascii", "replace"))
        return ctx

    def san_allowed(self, peercert: Mapping[str, Any] | None) -> bool:
        """exporter-toolkit's client_allowed_sans: one SAN of the client certificate is in the list."""
        if self.client_allowed_sans is None:
            return True
        if not peercert:
            return False
        for kind, value in peercert.get("subjectAltName", ()):
            if kind in ("DNS", "IP Address", "email", "URI") and str(value).strip() in self.client_allowed_sans:
                return True
        return False


def load(path: str | os.PathLike[str]) -> WebConfig:
    """Read and validate a web-config file; every certificate and key it names is read and checked."""
    source = str(path)
    try:
        size = os.path.getsize(source)
        if size > MAX_FILE_BYTES:
            raise WebConfigError(source, "", f"a file of at most {MAX_FILE_BYTES} bytes, got {size}")
        text = Path(source).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise WebConfigError(source, "", "UTF-8 text") from None
    except OSError as exc:
        raise WebConfigError(source, "", f"a readable file ({exc.strerror or exc})") from None
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WebConfigError(source, "", f"YAML ({str(exc).splitlines()[0]})") from None
    return parse(doc or {}, source=source, base_dir=Path(source).resolve().parent)


def parse(doc: object, *, source: str = "<web-config>", base_dir: Path | None = None) -> WebConfig:
    """Validate a web-config mapping (relative file paths resolve against `base_dir`)."""
    base = base_dir or Path.cwd()
    root = _mapping(doc, source, "")
    _only(root, {"tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"}, source, "")
    if "rate_limit" in root:
        raise WebConfigError(source, "rate_limit", f"not supported by vpc-verify ({_NOT_IMPLEMENTED['rate_limit']})")
    tls = _mapping(root.get("tls_server_config"), source, "tls_server_config", required=True)
    for key in tls:
        dotted = f"tls_server_config.{key}"
        if dotted in _NOT_IMPLEMENTED:
            raise WebConfigError(source, dotted, f"not supported by vpc-verify ({_NOT_IMPLEMENTED[dotted]})")
    _only(tls, _TLS_KEYS, source, "tls_server_config")
    watched: list[str] = []
    cert = _pem(tls, "cert", "cert_file", base, source, watched, required=True)
    key = _pem(tls, "key", "key_file", base, source, watched, required=True)
    client_ca = _pem(tls, "client_ca", "client_ca_file", base, source, watched, required=False)
    client_auth = _client_auth(tls, client_ca, source)
    sans = tls.get("client_allowed_sans")
    if sans is not None and (not isinstance(sans, list) or not all(isinstance(s, str) for s in sans)):
        raise WebConfigError(source, "tls_server_config.client_allowed_sans", "a list of strings")
    versions = _tls_versions(tls, source)
    prefer = tls.get("prefer_server_cipher_suites", True)
    if not isinstance(prefer, bool):
        raise WebConfigError(source, "tls_server_config.prefer_server_cipher_suites", "true or false")
    config = WebConfig(
        source=source,
        cert_pem=cert or b"",
        key_pem=key or b"",
        cert_file=_path_of(tls.get("cert_file"), base),
        key_file=_path_of(tls.get("key_file"), base),
        client_ca_pem=client_ca,
        client_auth=client_auth,
        client_allowed_sans=frozenset(sans) if sans is not None else None,
        min_version=versions["min_version"],
        max_version=versions["max_version"],
        prefer_server_ciphers=prefer,
        headers=_headers(root, source),
        users=_users(root, source),
        watched=(source, *watched),
    )
    try:
        config.ssl_context()
    except (ssl.SSLError, ValueError) as exc:
        raise WebConfigError(source, "tls_server_config", f"a certificate, key and CAs that load ({exc})") from None
    return config


def _client_auth(tls: dict[str, Any], client_ca: bytes | None, source: str) -> ssl.VerifyMode:
    auth_name = _string(tls, "client_auth_type", source, "")
    if auth_name not in _CLIENT_AUTH:
        raise WebConfigError(
            source,
            "tls_server_config.client_auth_type",
            f"one of NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert, got {auth_name!r} "
            "(a client certificate that is not verified is no authentication)",
        )
    client_auth = _CLIENT_AUTH[auth_name]
    if client_ca is not None and client_auth is ssl.CERT_NONE:
        raise WebConfigError(
            source, "tls_server_config.client_auth_type", "a client auth type: client CAs are set without one"
        )
    if client_auth is not ssl.CERT_NONE and client_ca is None:
        raise WebConfigError(source, "tls_server_config.client_ca_file", f"the client CAs for {auth_name}")
    return client_auth


def _tls_versions(tls: dict[str, Any], source: str) -> dict[str, ssl.TLSVersion]:
    versions = {}
    for name, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
        value = _string(tls, name, source, default)
        if value not in _TLS_VERSIONS:
            raise WebConfigError(
                source, f"tls_server_config.{name}", f"one of {', '.join(_TLS_VERSIONS)}, got {value!r}"
            )
        versions[name] = _TLS_VERSIONS[value]
    return versions


def _headers(root: dict[str, Any], source: str) -> tuple[tuple[str, str], ...]:
    http = _mapping(root.get("http_server_config"), source, "http_server_config")
    _only(http, {"http2", "headers"}, source, "http_server_config")
    if not isinstance(http.get("http2", True), bool):
        raise WebConfigError(source, "http_server_config.http2", "true or false")
    headers = _mapping(http.get("headers"), source, "http_server_config.headers")
    for name, value in headers.items():
        where = f"http_server_config.headers.{name}"
        if name not in _HEADERS:
            raise WebConfigError(source, where, f"one of the headers {', '.join(_HEADERS)}")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise WebConfigError(source, where, "a one-line string")
        allowed = _HEADERS[name]
        if allowed and value not in allowed:
            raise WebConfigError(source, where, f"one of {', '.join(allowed)}, got {value!r}")
    return tuple((str(k), str(v)) for k, v in headers.items())


def _users(root: dict[str, Any], source: str) -> dict[str, bytes]:
    users_doc = _mapping(root.get("basic_auth_users"), source, "basic_auth_users")
    users: dict[str, bytes] = {}
    for user, hashed in users_doc.items():
        where = f"basic_auth_users.{user}"
        if not isinstance(user, str) or ":" in user:
            raise WebConfigError(source, "basic_auth_users", f"user names without ':', got {user!r}")
        if not isinstance(hashed, str) or not _BCRYPT.match(hashed.encode()):
            raise WebConfigError(source, where, "a bcrypt hash ($2y$10$ and 53 characters; htpasswd -nB)")
        users[user] = hashed.encode()
    if users:
        _bcrypt(source)  # fail at start, not at the first scrape
    return users


def _load_chain(ctx: ssl.SSLContext, config: WebConfig) -> None:
    if config.cert_file and config.key_file:
        ctx.load_cert_chain(config.cert_file, config.key_file)
        return
    # ssl loads a chain only from files: an inline cert or key goes to a private temporary directory, then away.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vpc-verify-tls-") as tmp:
        cert = Path(tmp) / "cert.pem"
        key = Path(tmp) / "key.pem"
        cert.write_bytes(config.cert_pem)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(config.key_pem)
        ctx.load_cert_chain(cert, key)


def _path_of(name: object, base: Path) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    return name if os.path.isabs(name) else str(base / name)


def _mapping(value: object, source: str, path: str, *, required: bool = False) -> dict[Any, Any]:
    if value is None:
        if required:
            raise WebConfigError(source, path, "a mapping (the TLS certificate and key are required)")
        return {}
    if not isinstance(value, dict):
        raise WebConfigError(source, path or "(top level)", "a mapping")
    return value


def _only(doc: Mapping[Any, Any], allowed: set[str], source: str, path: str) -> None:
    for key in doc:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise WebConfigError(source, where, f"one of the keys {', '.join(sorted(allowed))}")


def _string(doc: Mapping[str, Any], key: str, source: str, default: str) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise WebConfigError(source, f"tls_server_config.{key}", "a string")
    return value


def _pem(
    doc: Mapping[str, Any],
    inline: str,
    file_key: str,
    base: Path,
    source: str,
    watched: list[str],
    *,
    required: bool,
) -> bytes | None:
    if inline in doc and file_key in doc:
        raise WebConfigError(source, f"tls_server_config.{inline}", f"either {inline} or {file_key}, not both")
    if inline in doc:
        value = doc[inline]
        if not isinstance(value, str) or not value.strip():
            raise WebConfigError(source, f"tls_server_config.{inline}", "PEM text")
        return value.encode()
    if file_key in doc:
        name = doc[file_key]
        if not isinstance(name, str) or not name:
            raise WebConfigError(source, f"tls_server_config.{file_key}", "a file name")
        path = (base / name) if not os.path.isabs(name) else Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise WebConfigError(
                source, f"tls_server_config.{file_key}", f"a readable file, {path}: {exc.strerror or exc}"
            ) from None
        watched.append(str(path))
        return data
    if required:
        raise WebConfigError(source, f"tls_server_config.{file_key}", f"one of {inline} or {file_key}")
    return None


def _bcrypt(source: str) -> Any:
    try:
        import bcrypt
    except ImportError:
        raise WebConfigError(
            source, "basic_auth_users", "the bcrypt package to check passwords: pip install 'vpc-verify[web]'"
        ) from None
    return bcrypt


def _signature(paths: tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            out.append((0, 0, 0))
        else:
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


class TooManyAuthAttempts(Exception):
    """More requests are waiting for a password check than the agent queues."""


class WebConfigSource:
    """The current web-config of a listener: reloaded when its files change, and one shared SSL context."""

    def __init__(self, path: str, *, on_error: Any = None) -> None:
        self.path = path
        self.config = load(path)
        self.context = self.config.ssl_context()
        self._signature = _signature(self.config.watched)
        self._checked = time.monotonic()
        self._failed_signature: tuple[tuple[int, int, int], ...] | None = None
        self._on_error = on_error
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._lock = asyncio.Lock()
        self._waiting = 0

    def refresh(self, *, force: bool = False) -> WebConfig:
        """The config, re-read first when one of its files changed (checked at most once a second)."""
        now = time.monotonic()
        if not force and now - self._checked < RECHECK_S:
            return self.config
        self._checked = now
        signature = _signature(self.config.watched)
        if not force and signature == self._signature:
            return self.config
        try:
            fresh = load(self.path)
        except WebConfigError as exc:
            if signature != self._failed_signature and self._on_error is not None:
                self._on_error(str(exc))
            self._failed_signature = signature
            return self.config
        if (fresh.cert_pem, fresh.key_pem) != (self.config.cert_pem, self.config.key_pem):
            _load_chain(self.context, fresh)  # a renewed certificate, for the next handshake
        self.config = fresh
        self._signature = _signature(fresh.watched)
        self._failed_signature = None
        self._cache.clear()
        return fresh

    async def authorized(self, header: bytes | None) -> bool:
        """Whether an Authorization header holds a user and password of the file (always True without users)."""
        users = self.config.users
        if not users:
            return True
        if header is None or header[:6].lower() != b"basic ":
            return False
        try:
            user_b, sep, password = base64.b64decode(header[6:].strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        if not sep:
            return False
        user = user_b.decode("utf-8", "replace")
        hashed = users.get(user)
        known = hashed is not None
        hashed = hashed or _DUMMY_HASH
        key = hashlib.sha256(b"\0".join((user_b, hashed, password))).digest()
        cached = self._cache.get(key)
        if cached is None:
            if self._waiting >= MAX_AUTH_WAITERS:
                raise TooManyAuthAttempts
            self._waiting += 1
            try:
                async with self._lock:
                    bcrypt = _bcrypt(self.path)
                    match = await asyncio.to_thread(_checkpw, bcrypt, password, hashed)
            finally:
                self._waiting -= 1
            cached = known and match
            self._cache[key] = cached
            while len(self._cache) > AUTH_CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return cached


def _checkpw(bcrypt: Any, password: bytes, hashed: bytes) -> bool:
    try:
        return bool(bcrypt.checkpw(password, hashed))
    except ValueError:
        return False
