"""pytest setup for the firkin package tests: imports the package from this
checkout (bindings/python) unless FIRKIN_TEST_INSTALLED=1 asks for the
installed one, gives each test a fresh database path, and ends the run with
the line "N passed, N failed" that every Firkin test runner prints."""
import os
import sys

import pytest

if os.environ.get("FIRKIN_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def path(tmp_path):
    """A database path that does not exist yet, in a fresh temporary directory."""
    return str(tmp_path / "db")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    terminalreporter.write_line("%d passed, %d failed" % (passed, failed))
