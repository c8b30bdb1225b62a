"""UCI HAR (Anguita et al. 2013): the smartphone activity recordings of the notes' HAR model
(001 B.9), as (128, 9) inertial-signal windows of 6 activities. A download: it needs a
connected machine.

Thirty people carried a Samsung Galaxy S II on the waist while walking, walking upstairs,
walking downstairs, sitting, standing and lying down. The accelerometer and gyroscope were
sampled at 50 Hz and cut into windows of 2.56 s (128 steps, 50 % overlap). Each window has
nine channels, in this order:

| channels | signal |
| --- | --- |
| 0–2 | body acceleration x, y, z (gravity filtered out), g |
| 3–5 | angular velocity x, y, z, rad/s |
| 6–8 | total acceleration x, y, z, g |

The official split is by person: 7,352 training windows (21 people) and 2,947 test windows
(9 others), so no test person is ever seen in training.

On first use the archive (UCI Machine Learning Repository, CC BY 4.0, about 60 MB) is fetched
with ``keras.utils.get_file`` into the cache; the windows read from its ``Inertial Signals``
text files are kept there as one ``.npz`` and the archive is deleted. Later loads read that
file only. The tests never
download: they serve an archive of the same layout from a fixture
(``tests/test_sequences.py``). The shapes and classes are known without the data, so
``keras-curriculum summary`` works offline.

Each channel is standardised with the training windows' mean and standard deviation, as the
UEA/UCR sets are (``datasets/ucr.py``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.cache import cache_dir, cached_path, write_atomically
from keras_curriculum.datasets.source import Description, Source, register_metadata
from keras_curriculum.datasets.ucr import channel_statistics
from keras_curriculum.errors import CurriculumError
from keras_curriculum.registry import register_dataset

URL = (
    "https://archive.ics.uci.edu/static/public/240/human+activity+recognition+using+smartphones.zip"
)
CLASS_NAMES = [
    "walking", "walking upstairs", "walking downstairs", "sitting", "standing", "lying",
]  # fmt: skip
SIGNALS = [
    f"{signal}_{axis}" for signal in ("body_acc", "body_gyro", "total_acc") for axis in "xyz"
]
STEPS = 128
SPLITS = ("train", "test")


def path() -> Path:
    return cached_path("uci_har", "uci_har.npz")


def archive_members(archive: Path) -> dict[str, bytes]:
    """The files of the ``UCI HAR Dataset`` folder, by their path below it. The repository's
    zip holds a second zip (``UCI HAR Dataset.zip``) with the folder; older copies hold the
    folder itself."""
    try:
        with zipfile.ZipFile(archive) as outer:
            inner = [name for name in outer.namelist() if name.endswith("UCI HAR Dataset.zip")]
            if inner:
                with zipfile.ZipFile(io.BytesIO(outer.read(inner[0]))) as nested:
                    return folder_files(nested)
            return folder_files(outer)
    except zipfile.BadZipFile:
        raise CurriculumError(
            f"{archive}: not a zip archive (remove it to download again)"
        ) from None


def folder_files(archive: zipfile.ZipFile) -> dict[str, bytes]:
    marker = "UCI HAR Dataset/"
    return {
        name.split(marker, 1)[1]: archive.read(name)
        for name in archive.namelist()
        if marker in name and not name.endswith("/") and "__MACOSX" not in name
    }


def read_table(files: dict[str, bytes], name: str, *, columns: int | None) -> np.ndarray:
    """A whitespace-separated text table of the archive; a missing or ragged one is a
    one-line error naming it."""
    if name not in files:
        raise CurriculumError(f"UCI HAR archive: no file 'UCI HAR Dataset/{name}'")
    try:
        table = np.loadtxt(io.BytesIO(files[name]), dtype=np.float32, ndmin=2)
    except ValueError as error:
        raise CurriculumError(f"UCI HAR archive, {name}: {str(error).splitlines()[0]}") from None
    if columns is not None and table.shape[1] != columns:
        raise CurriculumError(
            f"UCI HAR archive, {name}: expected {columns} values a line, got {table.shape[1]}"
        )
    return table


def read_archive(archive: Path) -> dict[str, np.ndarray]:
    """``x_train`` (n, 128, 9), ``y_train`` (labels 0–5) and the same for ``test``."""
    files = archive_members(archive)
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS:
        labels = read_table(files, f"{split}/y_{split}.txt", columns=1)[:, 0].astype(np.int64)
        if not np.isin(labels, range(1, len(CLASS_NAMES) + 1)).all():
            raise CurriculumError(
                f"UCI HAR archive, {split}/y_{split}.txt: labels must be 1–{len(CLASS_NAMES)}"
            )
        channels = []
        for signal in SIGNALS:
            name = f"{split}/Inertial Signals/{signal}_{split}.txt"
            table = read_table(files, name, columns=STEPS)
            if len(table) != len(labels):
                raise CurriculumError(
                    f"UCI HAR archive, {name}: {len(table)} windows for {len(labels)} labels"
                )
            channels.append(table)
        arrays[f"x_{split}"] = np.stack(channels, axis=-1)
        arrays[f"y_{split}"] = labels - 1
    return arrays


def read_arrays() -> dict[str, np.ndarray]:
    """The windows from the cache, downloading and converting the archive the first time."""
    if not path().exists():
        import keras

        # get_file falls back to /tmp/.keras when its folder is not there (not writable) yet.
        path().parent.mkdir(parents=True, exist_ok=True)
        try:
            archive = keras.utils.get_file(
                "uci_har.zip", URL, cache_dir=str(cache_dir()), cache_subdir="uci_har"
            )
        except Exception as error:  # network errors come in many kinds
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise CurriculumError(f"uci_har: cannot download {URL} ({first_line[:200]})") from None
        try:
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **read_archive(Path(archive)))
            write_atomically(path(), buffer.getvalue())
        finally:  # converted, or unusable: the next load downloads it again
            Path(archive).unlink(missing_ok=True)
    with np.load(path()) as stored:
        return {key: stored[key] for key in stored.files}


@register_metadata("uci_har")
def uci_har_metadata() -> Description:
    return Description(
        input_shape=(STEPS, len(SIGNALS)), num_classes=len(CLASS_NAMES), class_names=CLASS_NAMES
    )


@register_dataset("uci_har")
def uci_har(*, scale: bool = True) -> Source:
    """UCI HAR, (128, 9) smartphone inertial windows of 6 activities, split by person
    (7,352 / 2,947); downloaded on first use.

    Args:
        scale: standardise each channel with the training windows' mean and standard deviation.
    """
    arrays = read_arrays()
    x_train, x_test = arrays["x_train"], arrays["x_test"]
    if scale:
        mean, std = channel_statistics([x_train.reshape(-1, len(SIGNALS))])
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return uci_har_metadata().source(
        train=(x_train.astype(np.float32), arrays["y_train"]),
        test=(x_test.astype(np.float32), arrays["y_test"]),
    )
