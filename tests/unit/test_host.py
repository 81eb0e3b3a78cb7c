"""The host adapter under CPython, and that engines use the host they are given."""

from __future__ import annotations

import logging
import re
import sys
import time

import pytest

from cortexkg import AllocationEngine
from cortexkg.host import default_host

pytestmark = pytest.mark.skipif(sys.platform == "emscripten", reason="CPython host only")


def test_default_host_monotonic_clock_is_in_milliseconds_and_never_goes_back():
    host = default_host()
    readings = [host.now_ms() for _ in range(1000)]
    assert all(isinstance(r, float) for r in readings)
    assert readings == sorted(readings)
    before = host.now_ms()
    time.sleep(0.02)
    elapsed = host.now_ms() - before
    assert 19.0 <= elapsed < 2000.0  # milliseconds, not seconds or microseconds


def test_default_host_wall_clock_is_epoch_milliseconds():
    host = default_host()
    before = time.time() * 1000.0
    wall = host.wall_ms()
    after = time.time() * 1000.0
    assert isinstance(wall, float)
    assert before - 1.0 <= wall <= after + 1.0
    assert wall > 1.6e12  # milliseconds since 1970, i.e. after 2020


def test_default_host_log_goes_to_the_cortexkg_logger_at_info(caplog):
    caplog.set_level(logging.INFO, logger="cortexkg")
    default_host().log("hello from the host")
    [record] = [r for r in caplog.records if r.name == "cortexkg"]
    assert record.getMessage() == "hello from the host"
    assert record.levelno == logging.INFO


def test_engine_without_a_host_uses_the_platform_host(caplog):
    caplog.set_level(logging.INFO, logger="cortexkg")
    engine = AllocationEngine(4)
    before = time.time() * 1000.0
    engine.allocate_concept(1)
    after = time.time() * 1000.0
    [record] = engine.get_allocation_history()
    assert before - 1.0 <= record["timestamp"] <= after + 1.0
    engine.optimize_allocations()
    [line] = [r.getMessage() for r in caplog.records if r.name == "cortexkg"]
    assert re.fullmatch(r"Optimization completed in \d+\.\d{2}ms, 0 changes made", line)


def test_engine_takes_timestamps_timings_and_log_from_the_given_host(fake_host):
    engine = AllocationEngine(4, refractory_ms=5.0, host=fake_host)
    engine.allocate_concept(1)
    fake_host.advance(3.0)
    engine.allocate_concept(2)
    assert [r["timestamp"] for r in engine.get_allocation_history()] == [
        fake_host.epoch + 1000.0, fake_host.epoch + 1003.0]
    assert engine.get_average_time() == 0.0  # the fake clock did not move during a call
    engine.deallocate_concept(1)
    fake_host.advance(4.5)
    assert engine.get_free_column_count() == 2
    fake_host.advance(0.5)
    assert engine.get_free_column_count() == 3
    engine.optimize_allocations()
    assert fake_host.logs == ["Optimization completed in 0.00ms, 1 changes made"]
    assert engine.host is fake_host
