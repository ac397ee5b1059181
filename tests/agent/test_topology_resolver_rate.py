"""The resolver's rate in the topology: `resolver.queries_per_second`, under the VPC resolver's limit by default."""

from __future__ import annotations

import pytest

from vpc_verify.topology import DEFAULT_QUERIES_PER_SECOND, TopologyError, parse

BASE = {"version": 1, "endpoints": [{"name": "app", "type": "service", "dns_names": ["app.example.com"]}]}


def test_the_default_rate_is_well_under_the_vpc_resolvers_limit() -> None:
    assert parse(BASE).resolver.queries_per_second == DEFAULT_QUERIES_PER_SECOND
    assert DEFAULT_QUERIES_PER_SECOND <= 1024 // 3


def test_the_rate_is_configurable() -> None:
    assert parse({**BASE, "resolver": {"queries_per_second": 900}}).resolver.queries_per_second == 900


@pytest.mark.parametrize("bad", [0, -5, 1.5, "fast", True, 10**9])
def test_a_bad_rate_names_its_key_and_the_expectation(bad: object) -> None:
    with pytest.raises(TopologyError, match=r"resolver\.queries_per_second: expected an integer from 1 to 100000"):
        parse({**BASE, "resolver": {"queries_per_second": bad}})
