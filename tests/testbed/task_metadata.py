"""A stand-in for the ECS task metadata endpoint v4 on loopback (what `ECS_CONTAINER_METADATA_URI_V4` names).

`GET <base>/task` answers the task's document; any other path is a 404 with no body.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextlib.contextmanager
def serve(task: dict[str, Any]) -> Iterator[str]:
    """Serve `task` at `<base>/task` on 127.0.0.1 while the block runs; yields `<base>` (ending in /v4)."""
    body = json.dumps(task).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/v4/task"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4"
    finally:
        server.shutdown()
        server.server_close()
