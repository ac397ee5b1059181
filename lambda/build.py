"""Build the Lambda zip: handler.py at the root, the project's own wheel unpacked (vpc_verify/ and its
dist-info, exactly what `pip install vpc-verify` installs) and the pinned dependencies (not boto3: the Lambda
runtime provides it, and it is all the `[aws]` extra adds, so the function has what `vpc-verify[aws]` has).

    python lambda/build.py --arch x86_64            # -> lambda/dist/vpc-verify-lambda-x86_64.zip
    python lambda/build.py --arch arm64 --topology topology.yaml

    python lambda/build.py --fetch                  # only download the wheels (then builds work offline)

The zip is reproducible: dependencies are pinned (lambda/requirements.txt, installed without resolving)
from a local wheelhouse filled once from PyPI,
wheels only for the target platform (manylinux2014), no .pyc, entries sorted, every timestamp 1980-01-01
and fixed permissions; building the same tree twice gives the same sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXEC_MODE = 0o755
SKIP_DIRS = {"__pycache__", "bin"}
SKIP_SUFFIXES = (".pyc", ".pyo")


def wheelhouse_default() -> Path:
    """Where downloaded wheels are kept (so builds, and tests in a sandbox without network, work offline)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("VPC_VERIFY_WHEELHOUSE") or Path(base) / "vpc-verify" / "lambda-wheels")


def _platform_args(arch: str, python_version: str) -> list[str]:
    return [
        "--only-binary=:all:",
        "--platform",
        PLATFORMS[arch],
        "--python-version",
        python_version,
        "--implementation",
        "cp",
    ]


def fetch(wheelhouse: Path, arch: str, python_version: str, requirements: Path) -> None:
    """Download the pinned wheels for the target platform into `wheelhouse` (needs PyPI)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        *_platform_args(arch, python_version),
        "--dest",
        str(wheelhouse),
        "-r",
        str(requirements),
    ]
    subprocess.run(cmd, check=True)


def install_dependencies(
    target: Path, arch: str, python_version: str, requirements: Path, wheelhouse: Path | None = None
) -> None:
    """Install the pinned requirements for the target platform into `target` from the wheelhouse (no .pyc);
    fetch them first when the wheelhouse lacks one."""
    wheelhouse = wheelhouse or wheelhouse_default()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-compile",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        *_platform_args(arch, python_version),
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        fetch(wheelhouse, arch, python_version, requirements)
        subprocess.run(cmd, check=True)


def unpack_project_wheel(target: Path) -> None:
    """Build this tree's wheel (the same one users install) and unpack it into `target`.

    One packaging path serves both artifacts: a module missing from the wheel is missing from the zip too,
    and the Lambda test catches it.
    """
    with tempfile.TemporaryDirectory(prefix="vpc-verify-wheel-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            tmp,
            str(ROOT),
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        (wheel,) = Path(tmp).glob("vpc_verify-*.whl")
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(target)


def package_files(deps: Path, topology: Path | None) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file on disk) for everything the package holds."""
    yield "handler.py", ROOT / "lambda" / "handler.py"
    if topology is not None:
        yield "topology.yaml", topology
    yield from _tree(deps, "")


def _tree(base: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(SKIP_SUFFIXES):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(base).as_posix()
            yield (f"{prefix}/{rel}" if prefix else rel), path


def write_zip(out: Path, files: list[tuple[str, Path]]) -> None:
    """A deterministic zip of `files`: sorted names, fixed timestamps and permissions."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(files, key=lambda item: item[0]):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr carries the mode
            mode = EXEC_MODE if os.access(path, os.X_OK) and path.suffix == ".so" else FILE_MODE
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    os.replace(tmp, out)


def sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build(
    arch: str,
    out: Path,
    *,
    python_version: str = "3.13",
    topology: Path | None = None,
    requirements: Path = ROOT / "lambda" / "requirements.txt",
    wheelhouse: Path | None = None,
) -> Path:
    """Build the zip for `arch` at `out` and return its path."""
    with tempfile.TemporaryDirectory(prefix="vpc-verify-lambda-") as tmp:
        deps = Path(tmp) / "deps"
        install_dependencies(deps, arch, python_version, requirements, wheelhouse)
        unpack_project_wheel(deps)
        for leftover in ("bin",):
            shutil.rmtree(deps / leftover, ignore_errors=True)
        files = list(package_files(deps, topology))
        names = [n for n, _ in files]
        if len(names) != len(set(names)):
            raise SystemExit("build: two files map to the same name in the zip")
        if any(n.startswith(("boto3/", "botocore/")) for n in names):
            raise SystemExit("build: boto3 must not be in the package (the runtime provides it)")
        write_zip(out, files)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: build one zip and print its path, size and sha256."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    p.add_argument(
        "--python", default="3.13", help="the Lambda runtime's Python version (default 3.13, as in template.yaml)"
    )
    p.add_argument("--topology", type=Path, default=None, help="package this topology file as topology.yaml")
    p.add_argument(
        "-o", "--out", type=Path, default=None, help="the zip (default lambda/dist/vpc-verify-lambda-ARCH.zip)"
    )
    p.add_argument(
        "--wheelhouse",
        type=Path,
        default=None,
        help="downloaded wheels (default $VPC_VERIFY_WHEELHOUSE or ~/.cache/vpc-verify/lambda-wheels)",
    )
    p.add_argument(
        "--fetch",
        action="store_true",
        help="only download the wheels for both architectures (and this machine's Python, for the "
        "tests) into the wheelhouse, so that later builds need no network",
    )
    args = p.parse_args(argv)
    if args.fetch:
        local = f"{sys.version_info.major}.{sys.version_info.minor}"
        requirements = ROOT / "lambda" / "requirements.txt"
        for arch in sorted(PLATFORMS):
            fetch(args.wheelhouse or wheelhouse_default(), arch, args.python, requirements)
        fetch(
            args.wheelhouse or wheelhouse_default(),
            "x86_64" if os.uname().machine == "x86_64" else "arm64",
            local,
            requirements,
        )
        print(f"wheels in {args.wheelhouse or wheelhouse_default()}")
        return 0
    out = args.out or ROOT / "lambda" / "dist" / f"vpc-verify-lambda-{args.arch}.zip"
    path = build(args.arch, out, python_version=args.python, topology=args.topology, wheelhouse=args.wheelhouse)
    print(f"{path}  {path.stat().st_size} bytes  sha256 {sha256(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
