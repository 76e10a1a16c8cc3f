"""A fresh install works: torch and torchaudio load together, and uv.lock matches pyproject.toml.

These tests guard against drift that no line of ours causes: a new upstream release that
breaks the torch/torchaudio pair, or a lock that no longer holds what pyproject.toml declares
(a dependency added without `make lock`, a locked version outside its declared range, a
package with no wheel for one of the Python versions we claim to support).
"""

from __future__ import annotations

import re
import sys
import tomllib
from functools import cache

import pytest
from conftest import REPO
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

# The exact pair known to load together (torchaudio 2.11.1 does not load with torch 2.11.0).
TORCH_PAIR = {"torch": "2.11.0", "torchaudio": "2.11.0"}
# The Pythons requires-python admits; each must install from wheels alone on Linux x86_64.
PYTHONS = ["3.11", "3.12", "3.13"]
LINUX_X86_64 = (
    [f"manylinux_2_{minor}_x86_64" for minor in range(39, 4, -1)]
    + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
)


@cache
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@cache
def lock() -> dict:
    return tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))


def declared_requirements() -> list[Requirement]:
    """The project's dependencies and every optional extra, as pyproject.toml declares them."""
    project = pyproject()["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in project["dependencies"]] + [
        Requirement(r) for group in extras.values() for r in group
    ]


def linux_env(python: str) -> dict[str, str]:
    """Marker environment of CPython `python` on Linux x86_64."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "extra": "",
    }


def applies(marker: str | Marker | None, env: dict[str, str]) -> bool:
    if marker is None:
        return True
    return (marker if isinstance(marker, Marker) else Marker(marker)).evaluate(env)


def locked_package(name: str, env: dict[str, str], version: str | None = None) -> dict:
    """The lock's entry for `name` that uv installs in env (a package can fork by Python)."""
    entries = [
        p
        for p in lock()["package"]
        if canonicalize_name(p["name"]) == canonicalize_name(name)
        and (version is None or p["version"] == version)
    ]
    fitting = [
        p
        for p in entries
        if not p.get("resolution-markers")
        or any(applies(m, env) for m in p["resolution-markers"])
    ]
    assert len(fitting) == 1, (
        f"uv.lock holds {len(fitting)} entries of {name} for {env['python_full_version']}: "
        "run `make lock`"
    )
    return fitting[0]


def installed_set(python: str) -> list[dict]:
    """Every locked package installed for CPython `python` on Linux, with every extra."""
    env = linux_env(python)
    root = locked_package("asrlens", env)
    todo = list(root.get("dependencies", []))
    for deps in root.get("optional-dependencies", {}).values():
        todo += deps
    seen: dict[str, dict] = {}
    while todo:
        dep = todo.pop()
        if not applies(dep.get("marker"), env):
            continue
        package = locked_package(dep["name"], env, dep.get("version"))
        key = f"{package['name']}=={package['version']}"
        if key not in seen:
            seen[key] = package
            todo += package.get("dependencies", [])
    return list(seen.values())


def test_torch_and_torchaudio_load_together_and_run_wav2vec2():
    """Imports torchaudio's compiled library and runs a wav2vec2 BASE forward pass.

    Fails with the two versions when the installed pair does not load together (the
    2.11.0/2.11.1 break raised `undefined symbol` from libtorchaudio.so on import).
    """
    import torch

    try:
        import torchaudio
        from torchaudio.models import wav2vec2_base
    except OSError as exc:
        pytest.fail(
            f"torchaudio does not load with torch {torch.__version__}: {exc}\n"
            f"Install the pinned pair from the lock: make test (pyproject pins {TORCH_PAIR})."
        )
    model = wav2vec2_base(aux_num_out=29).eval()
    with torch.inference_mode():
        emissions, lengths = model(torch.randn(2, 16_000), torch.tensor([16_000, 8_000]))
    assert emissions.shape == (2, 49, 29), emissions.shape
    assert lengths.tolist() == [49, 24]
    assert torch.isfinite(emissions).all()
    installed = {"torch": torch.__version__, "torchaudio": torchaudio.__version__}
    assert {k: v.split("+")[0] for k, v in installed.items()} == TORCH_PAIR, (
        f"installed {installed}, but pyproject.toml and uv.lock pin {TORCH_PAIR}"
    )


def test_torch_and_torchaudio_are_pinned_to_one_exact_pair():
    declared = {r.name: str(r.specifier) for r in declared_requirements()}
    for name, version in TORCH_PAIR.items():
        assert declared[name] == f"=={version}", f"pyproject.toml: {name}{declared[name]}"
        for python in PYTHONS:
            assert locked_package(name, linux_env(python))["version"] == version


def test_the_lock_covers_the_declared_pythons():
    declared = SpecifierSet(pyproject()["project"]["requires-python"])
    assert SpecifierSet(lock()["requires-python"].replace(" ", "")) == declared, (
        "uv.lock was resolved for another requires-python: run `make lock`"
    )
    # Exactly the minor versions PYTHONS names: none forgotten, none claimed without a check.
    admitted = [f"3.{m}" for m in range(8, 20) if f"3.{m}.0" in declared]
    assert admitted == PYTHONS


@pytest.mark.parametrize("python", PYTHONS)
def test_every_declared_dependency_is_locked_within_its_declared_range(python):
    env = linux_env(python)
    assert declared_requirements()
    for requirement in declared_requirements():
        if not applies(requirement.marker, env):
            continue
        try:
            package = locked_package(requirement.name, env)
        except AssertionError:
            pytest.fail(f"{requirement} is declared in pyproject.toml but not in uv.lock")
        assert requirement.specifier.contains(package["version"], prereleases=True), (
            f"uv.lock has {requirement.name} {package['version']} for Python {python}, "
            f"outside pyproject.toml's {requirement}: run `make lock`"
        )


@pytest.mark.parametrize("python", PYTHONS)
def test_every_locked_package_installs_from_a_wheel(python):
    """No user of a supported Python compiles anything: each package uv installs on Linux
    x86_64 has a wheel for that Python (pocketsphinx 5.1.x, for one, has none for 3.12)."""
    major, minor = (int(part) for part in python.split("."))
    tags = set(cpython_tags((major, minor), platforms=LINUX_X86_64))
    tags |= set(compatible_tags((major, minor), platforms=LINUX_X86_64))
    assert installed_set(python)
    for package in installed_set(python):
        if "editable" in package["source"]:
            continue
        wheel_tags: set[Tag] = set()
        for wheel in package.get("wheels", []):
            wheel_tags |= set(parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3])
        assert wheel_tags & tags, (
            f"{package['name']} {package['version']} has no wheel for CPython {python} on "
            "Linux x86_64 in uv.lock"
        )


def test_the_makefile_bootstraps_the_locked_uv():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    bootstrap = re.search(r"^UV_VERSION = (\S+)$", makefile, re.MULTILINE)
    assert bootstrap, "Makefile has no UV_VERSION line"
    locked = locked_package("uv", linux_env(PYTHONS[0]))["version"]
    assert Version(bootstrap.group(1)) == Version(locked), (
        f"Makefile installs uv {bootstrap.group(1)}, uv.lock pins {locked}"
    )


def test_this_interpreter_is_one_we_declare():
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in PYTHONS
