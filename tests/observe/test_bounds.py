"""The sweep's bounds, held by coroutines and by callbacks alike: first come, first served; nothing leaks when
a waiter gives up."""

from __future__ import annotations

import asyncio

import pytest

from vpc_verify.observe.bounds import Bound


async def test_callbacks_and_coroutines_are_served_in_arrival_order() -> None:
    bound = Bound(1)
    order: list[str] = []
    assert bound.when_free(lambda: order.append("first")) is None  # free: called at once
    assert order == ["first"] and bound.locked()

    bound.when_free(lambda: order.append("callback"))

    async def coroutine() -> None:
        async with bound:
            order.append("coroutine")

    waiting = asyncio.ensure_future(coroutine())
    await asyncio.sleep(0)
    bound.release()  # "first" is done: the slot goes to the queued callback, from the loop
    await asyncio.sleep(0)
    assert order == ["first", "callback"]
    bound.release()  # the callback's slot goes to the coroutine
    await waiting
    assert order == ["first", "callback", "coroutine"]
    assert not bound.locked()


async def test_a_cancelled_callback_never_runs_and_its_slot_goes_on() -> None:
    bound = Bound(1)
    bound.when_free(lambda: None)
    called: list[str] = []
    gone = bound.when_free(lambda: called.append("gone"))
    assert gone is not None
    bound.when_free(lambda: called.append("next"))
    gone.cancel()
    bound.release()
    await asyncio.sleep(0)
    assert called == ["next"]


async def test_a_slot_handed_to_a_callback_cancelled_before_it_ran_is_given_back() -> None:
    bound = Bound(1)
    bound.when_free(lambda: None)
    late = bound.when_free(lambda: pytest.fail("cancelled, yet called"))
    assert late is not None
    bound.release()  # handed over: the callback is scheduled
    late.cancel()
    await asyncio.sleep(0)
    assert not bound.locked()


async def test_a_cancelled_coroutine_does_not_keep_the_slot() -> None:
    bound = Bound(1)
    await bound.acquire()
    waiter = asyncio.ensure_future(bound.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    bound.release()
    assert not bound.locked()


def test_a_bound_holds_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Bound(0)
