"""Ports the dev stack, tests and benches pick for their servers."""

from __future__ import annotations

import socket
from pathlib import Path

from ticketflow.devstack.process import free_port, port_free


def test_picked_ports_are_free_distinct_and_outside_the_kernels_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    picked = [free_port() for _ in range(300)]
    assert len(set(picked)) == len(picked)  # never handed out twice
    assert all(port < low for port in picked)  # so no outgoing connection can take one first
    assert all(port_free(port) for port in picked[-20:])


def test_a_listening_port_is_not_free() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", free_port()))
        held.listen()
        assert not port_free(held.getsockname()[1])
