"""Builds the optional C accelerator for gets and puts (_firkin_speedups.c) with the
package; pyproject.toml holds everything else. optional=True: without a
compiler or Python's headers (python3-dev) the package installs without it
and uses ctypes alone."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("_firkin_speedups", ["_firkin_speedups.c"], optional=True)])
