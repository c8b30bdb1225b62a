"""Every registered factory documents each of its parameters once, in an ``Args:`` section, and
``keras-curriculum list NAME`` prints them with their defaults."""

from __future__ import annotations

import pytest

from keras_curriculum import cli, datasets, models
from keras_curriculum.registry import Entry

# Filled in from the data's metadata (``DatasetInfo``), so a config never sets them.
METADATA = {"input_shape", "num_classes", "train_texts", "vocabulary_size", "architecture"}


def _cases():
    for kind, registry in (("models", models), ("datasets", datasets)):
        for entry in registry.entries():
            yield pytest.param(entry, id=f"{kind}:{entry.name}")


@pytest.mark.parametrize("entry", list(_cases()))
def test_every_parameter_is_documented(entry: Entry):
    documented = entry.documentation()
    missing = [name for name in entry.parameters if name not in documented and name not in METADATA]
    assert not missing, f"{entry.name}: no Args: entry for {missing}"
    assert not set(documented) - set(entry.parameters), "documents a parameter it does not take"


def test_args_section_parsing_joins_continuation_lines_and_stops_at_the_next_section():
    def factory(*, width: int = 3, depth: int = 1) -> None:
        """Something.

        Args:
            width: how wide,
                in units.
            depth: how deep.

        Returns:
            nothing: not a parameter.
        """

    entry = Entry("factory", factory, "Something.")
    assert entry.documentation() == {"width": "how wide, in units.", "depth": "how deep."}
    assert entry.describe().splitlines() == [
        "factory: Something.",
        "  width = 3",
        "      how wide, in units.",
        "  depth = 1",
        "      how deep.",
    ]


def list_command(name: str, capsys) -> str:
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["list", name])
    assert exit_status.value.code == 0
    return capsys.readouterr().out


def test_list_command_prints_a_factorys_parameters(capsys):
    out = list_command("fcn", capsys)
    assert out.startswith("fcn: Fully-convolutional encoder–decoder without skips")
    assert "  skips = False\n" in out and "  name = 'fcn'\n" in out  # the partial's defaults
    assert "      number of 2×2 poolings (levels of the contracting path).\n" in out
    out = list_command("word2vec", capsys)  # a model class: its own keywords only
    assert "  embedding_dim = 100\n" in out and "kwargs" not in out
