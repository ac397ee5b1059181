"""Client TLS contexts, built once per trust setting and shared by every probe (building one costs ~ms).

The system store is used when no bundle is given; where it is empty (some minimal images) certifi's is.
A CA bundle is read once, when its context is built: runs open no trust file. `clear_if_changed` (the agent
calls it before each run) stats the bundles read so far and forgets every context when one changed on disk.
"""

from __future__ import annotations

import functools
import os
import ssl

_bundles: dict[str, tuple[int, int, int] | None] = {}  # CA bundle -> (mtime_ns, size, inode) when it was read


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@functools.lru_cache(maxsize=64)
def client_context(verify: bool = True, ca_bundle: str | None = None, check_hostname: bool = True) -> ssl.SSLContext:
    """A client context: verify the chain against `ca_bundle` (or the system store) and the name when asked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx.check_hostname = check_hostname
    ctx.verify_mode = ssl.CERT_REQUIRED
    if ca_bundle:
        _bundles[ca_bundle] = _signature(ca_bundle)
        ctx.load_verify_locations(cafile=ca_bundle)
    else:
        ctx.load_default_certs()
        if not ctx.cert_store_stats().get("x509_ca"):
            try:
                import certifi
            except ImportError:
                pass
            else:
                ctx.load_verify_locations(cafile=certifi.where())
    return ctx


def clear() -> None:
    """Forget every cached context (after a CA bundle changed on disk, or on the agent's SIGHUP)."""
    client_context.cache_clear()
    _bundles.clear()


def clear_if_changed() -> bool:
    """Forget every cached context when a CA bundle read so far changed on disk (stat only); True if so."""
    if any(_signature(path) != seen for path, seen in _bundles.items()):
        clear()
        return True
    return False
