"""Socket readiness for the probes: one epoll set of their sockets, itself a single reader of the event loop.

Registering a socket with asyncio's loop costs a handle, a selector key and two epoll calls (add, remove) for
each phase that waits; a probe waits twice (the connect, then the server's handshake). Here a phase costs one
epoll call (register, then modify), forgetting the socket one more, and one loop callback serves every socket
that became ready in a pass. (A socket is unregistered even when it is about to be closed: a process forked
meanwhile may hold its file open, and the set would report that file's events under a number reused since.)
Where there is no epoll (not Linux), the loop's own add_reader/add_writer serve, with the same interface.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Callable

READ = 1  # the socket has data (or an error, or the peer closed)
WRITE = 4  # the socket takes data (a connect has ended)
_ERRORS = 0x008 | 0x010  # EPOLLERR, EPOLLHUP: reported whatever was asked

Handler = Callable[[int], None]  # called with READ and/or WRITE


class Readiness:
    """Calls a socket's handler when the socket is ready for what it was asked (`watch`)."""

    def watch(self, fd: int, events: int, handler: Handler) -> None:
        """Call `handler` whenever `fd` is ready for `events` (READ, WRITE or both), until the next `watch` or
        `forget` of `fd`."""
        raise NotImplementedError

    def forget(self, fd: int) -> None:
        """Stop watching `fd` (before it is closed)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop serving (the sockets still watched are their owners' to close)."""


class Epoll(Readiness):
    """An epoll set of its own, read by one reader callback of `loop`; `close` it when done."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._handlers: dict[int, Handler] = {}
        self._dispatching = False
        self._forgotten: set[int] = set()  # during a pass: fds forgotten (maybe reused) since it polled
        loop.add_reader(self._epoll.fileno(), self._poll)

    def close(self) -> None:
        if not self._epoll.closed:
            self._loop.remove_reader(self._epoll.fileno())
            self._epoll.close()
        self._handlers.clear()

    def watch(self, fd: int, events: int, handler: Handler) -> None:
        mask = (select.EPOLLIN if events & READ else 0) | (select.EPOLLOUT if events & WRITE else 0)
        if fd in self._handlers:
            self._epoll.modify(fd, mask)
        else:
            self._epoll.register(fd, mask)
        self._handlers[fd] = handler

    def forget(self, fd: int) -> None:
        if self._handlers.pop(fd, None) is None:
            return
        if self._dispatching:
            self._forgotten.add(fd)
        self._epoll.unregister(fd)

    def _poll(self) -> None:
        ready = self._epoll.poll(0)
        handlers = self._handlers
        self._dispatching = True
        try:
            for fd, mask in ready:
                # An fd forgotten earlier in this pass may be a new socket's already: its event is not for it.
                if self._forgotten and fd in self._forgotten:
                    continue
                handler = handlers.get(fd)
                if handler is not None:
                    if mask & _ERRORS:
                        mask |= select.EPOLLIN | select.EPOLLOUT
                    handler((READ if mask & select.EPOLLIN else 0) | (WRITE if mask & select.EPOLLOUT else 0))
        finally:
            self._dispatching = False
            self._forgotten.clear()


class LoopReadiness(Readiness):
    """The loop's own registrations (for a probe on its own, or where there is no epoll)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._watched: dict[int, int] = {}

    def watch(self, fd: int, events: int, handler: Handler) -> None:
        before = self._watched.get(fd, 0)
        if events & READ:
            self._loop.add_reader(fd, handler, READ)
        elif before & READ:
            self._loop.remove_reader(fd)
        if events & WRITE:
            self._loop.add_writer(fd, handler, WRITE)
        elif before & WRITE:
            self._loop.remove_writer(fd)
        self._watched[fd] = events

    def forget(self, fd: int) -> None:
        before = self._watched.pop(fd, 0)
        if before & READ:
            self._loop.remove_reader(fd)
        if before & WRITE:
            self._loop.remove_writer(fd)


def for_sweep(loop: asyncio.AbstractEventLoop) -> Readiness:
    """The readiness for many probes on `loop`: an epoll set of their own where the system has epoll."""
    return Epoll(loop) if hasattr(select, "epoll") else LoopReadiness(loop)
