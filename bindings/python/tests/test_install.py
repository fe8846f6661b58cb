"""pytest: the package installs offline (pip --no-index --no-build-isolation,
Debian's setuptools), builds a wheel, and finds libfirkin.so through
$FIRKIN_LIB, next to the package, or not at all (a clear ImportError)."""
import glob
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.environ.get("FIRKIN_LIB", "")

needs_pip = pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import setuptools, wheel, pip"],
                   capture_output=True).returncode != 0,
    reason="needs pip, setuptools and wheel (Debian: python3-pip python3-setuptools python3-wheel)")

SNIPPET = ("import firkin, sys\n"
           "with firkin.DB(sys.argv[1]) as db:\n"
           "    db[b'k'] = bytearray(b'v')\n"
           "    assert b'k' in db and db[b'k'] == b'v'\n"
           "print(firkin.__file__)\n")


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "FIRKIN_LIB", "LD_LIBRARY_PATH", "FIRKIN_TEST_INSTALLED")}
    env.update(extra)
    return env


def _pip(*args, cwd):
    r = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-cache-dir",
                        *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _copy_pkg(tmp_path):
    # pip builds in the source tree (build/, *.egg-info); build from a copy.
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                            ".pytest_cache", "libfirkin.so*"))
    return src


@needs_pip
def test_pip_install_target_and_run(tmp_path):
    if not os.path.exists(LIB):
        pytest.skip("FIRKIN_LIB is not set to the built library")
    src = _copy_pkg(tmp_path)
    target = tmp_path / "site"
    _pip("install", "--no-index", "--no-build-isolation", "--target", str(target), str(src),
         cwd=str(tmp_path))
    assert (target / "firkin" / "py.typed").exists()
    r = subprocess.run([sys.executable, "-c", SNIPPET, str(tmp_path / "db")], cwd=str(tmp_path),
                       env=_env(PYTHONPATH=str(target), FIRKIN_LIB=LIB), capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(target))

    # The library next to the package is found without FIRKIN_LIB.
    shutil.copy(LIB, target / "firkin" / "libfirkin.so.0")
    r = subprocess.run([sys.executable, "-c", SNIPPET, str(tmp_path / "db2")], cwd=str(tmp_path),
                       env=_env(PYTHONPATH=str(target)), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@needs_pip
def test_pip_wheel(tmp_path):
    src = _copy_pkg(tmp_path)
    _pip("wheel", "--no-index", "--no-build-isolation", "--no-deps", "-w", str(tmp_path / "dist"),
         str(src), cwd=str(tmp_path))
    wheels = glob.glob(str(tmp_path / "dist" / "firkin-0.1.0-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    for f in ("firkin/__init__.py", "firkin/db.py", "firkin/errors.py", "firkin/py.typed"):
        assert f in names
    assert not any(n.startswith("tests/") for n in names)


def test_bad_firkin_lib_is_a_clear_import_error(tmp_path):
    r = subprocess.run([sys.executable, "-c", "import firkin"], cwd=str(tmp_path),
                       env=_env(PYTHONPATH=PKG, FIRKIN_LIB=str(tmp_path / "no-such-lib.so")),
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "ImportError: firkin: cannot load libfirkin.so (set FIRKIN_LIB" in r.stderr
