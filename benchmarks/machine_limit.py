"""How close training runs come to what this machine can do.

For each config, in one process:

- **peak**: this machine's dense matmul rate (a ``keras.ops.matmul`` of two n×n matrices, 2n³
  FLOPs each, median of repeats), float32 and — where the CPU has native bfloat16 (AVX512-BF16
  or AMX) — bfloat16;
- **training FLOPs per example**: the forward pass's floating-point operations counted once
  from its traced TensorFlow graph (TensorFlow's profiler: MatMul, Conv2D, BiasAdd, … by
  their registered statistics), times 3 for forward + backward (the usual closed form: the
  backward pass costs two forward passes, one for the activations' gradients and one for the
  weights'); ops without registered statistics (element-wise activations, normalisation,
  the optimizer update) are not counted, so the figure is a lower bound;
- **achieved**: examples per second of ``model.fit`` on the config's real input pipeline
  (after an untimed warm-up on each side) × FLOPs per example, and that as a share of peak;
  each timed fit runs ``--steps`` steps, or more when that would last under
  ``--min-seconds`` (a small model's steps take microseconds);
- **pipeline share**: the same model and step on in-memory batches of the same shapes and
  lengths (the real pipeline's first 16 batches, cached and repeated), alternating with the
  real pipeline, median of the per-repeat ratios real / in-memory throughput. Target ≥ 0.95.

Any config works; a model with its own ``train_step`` gets its throughput and pipeline share
but no FLOP count, and a config that fails is reported and skipped (exit status 1 at the end).

    nice -n 10 python benchmarks/machine_limit.py                       # the four default configs
    python benchmarks/machine_limit.py --configs configs/mlp_digits.yaml --steps 50 --repeats 3
    python benchmarks/machine_limit.py --json benchmarks/results/machine_limit.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import StepClock  # noqa: E402  (benchmarks/timing.py, beside this script)

from keras_curriculum.training import load_config, prepare  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
IN_MEMORY_BATCHES = 16
DEFAULT_CONFIGS = [
    "configs/cnn_fashion_mnist.yaml",
    "configs/resnet20_fashion_mnist.yaml",
    "configs/unet_nuclei.yaml",
    "configs/text_transformer_mr.yaml",
]


def native_bfloat16() -> bool:
    """Whether the CPU computes bfloat16 natively (else TensorFlow emulates it, slowly)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def peak_flops(dtype: str, size: int = 2048, repeats: int = 7) -> float:
    """Median FLOP/s of an n×n by n×n matmul (2n³ FLOPs)."""
    a = keras.random.normal((size, size), dtype=dtype, seed=0)
    b = keras.random.normal((size, size), dtype=dtype, seed=1)
    matmul = tf.function(lambda x, y: keras.ops.matmul(x, y), jit_compile=False)
    matmul(a, b).numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        matmul(a, b).numpy()
        times.append(time.perf_counter() - started)
    return 2 * size**3 / statistics.median(times)


def forward_flops_per_example(model: keras.Model, batch) -> float:
    """Forward-pass FLOPs per example, counted from the traced graph by TensorFlow's profiler.

    A text model's vectorizer turns strings into ids of a length known only at run time, and
    the profiler counts no op of unknown shape; so the ids of this batch are made first and
    the graph from the vectorizer's output on is traced with their shape (string processing
    does no floating-point work)."""
    x = batch[0]
    vectorizers = [
        layer for layer in model.layers if isinstance(layer, keras.layers.TextVectorization)
    ]
    if vectorizers:
        x = vectorizers[0](x)
        model = keras.Model(vectorizers[0].output, model.output)
    size = int(tf.nest.flatten(x)[0].shape[0])
    forward = tf.function(lambda inputs: model(inputs, training=False))
    graph = forward.get_concrete_function(x).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph, options=options)
    return profile.total_float_ops / size


def throughput(
    model: keras.Model, dataset: tf.data.Dataset, steps: int, batch_size: int, skip: int
) -> float:
    """Examples per second of ``fit`` over ``steps`` steps, after ``skip`` uncounted ones
    (which fill shuffle buffers and prefetch queues)."""
    clock = StepClock(skip)
    model.fit(dataset, epochs=1, steps_per_epoch=skip + steps, verbose=0, callbacks=[clock])
    return clock.steps * batch_size / (clock.end - clock.start)


def measure(path: str, steps: int, repeats: int, peak: float, min_seconds: float) -> dict:
    config = load_config(
        REPO / path,
        [
            "training.mixed_precision=float32",
            "training.distribution=none",
            "training.verbose=0",
        ],
    )
    setup = prepare(config)
    model, data = setup.model, setup.data
    real = data.train.repeat()
    batch = next(iter(data.train))
    # The in-memory side: the pipeline's first batches, held in memory and repeated. They
    # have its shapes, and for text its spread of lengths (a model of padded sequences costs
    # what a batch's longest sequence costs, so one repeated batch would not be comparable).
    cached = data.train.take(IN_MEMORY_BATCHES).cache()
    for _ in cached:  # one whole pass fills (and completes) the cache before anything is timed
        pass
    in_memory = cached.repeat()
    x, _, _ = keras.utils.unpack_x_y_sample_weight(batch)
    batch_size = int(tf.nest.flatten(x)[0].shape[0])
    # A model with its own train_step (a GAN's alternating updates, a Siamese model's mined
    # triplets) does not run one forward and one backward pass of model(x) a step: its
    # FLOPs are not counted, only its throughput and pipeline share.
    plain_step = type(model).train_step is keras.Model.train_step
    flops = 3 * forward_flops_per_example(model, (x,)) if plain_step else None
    # Keras reports once per execution of steps_per_execution steps: the skipped and timed
    # steps are whole executions, at least two timed.
    per_execution = setup.config.training.steps_per_execution

    def whole(count: int) -> int:
        return math.ceil(count / per_execution) * per_execution

    steps = whole(max(steps, 2 * per_execution))
    skip = whole(max(2, steps // 4))
    # Untimed warm-up on both sides: compiles the step and lets each pipeline and its
    # buffers start once, so the first timed repeat is not the only one to pay for that.
    model.fit(in_memory, epochs=1, steps_per_epoch=skip, verbose=0)
    rough = throughput(model, real, steps, batch_size, skip)
    # A small model's steps take microseconds: enough of them that each timed fit lasts
    # min_seconds.
    steps = whole(max(steps, math.ceil(min_seconds * rough / batch_size)))
    rates: dict[str, list[float]] = {"real": [], "in_memory": []}
    ratios = []
    for index in range(repeats):
        order = ["real", "in_memory"] if index % 2 == 0 else ["in_memory", "real"]
        measured = {}
        for side in order:
            measured[side] = throughput(
                model, real if side == "real" else in_memory, steps, batch_size, skip
            )
            rates[side].append(measured[side])
        ratios.append(measured["real"] / measured["in_memory"])
    examples_per_second = statistics.median(rates["real"])
    achieved = flops * examples_per_second if flops else None
    return {
        "config": path,
        "parameters": model.count_params(),
        "batch_size": batch_size,
        "train_flops_per_example": flops,
        "examples_per_second": examples_per_second,
        "in_memory_examples_per_second": statistics.median(rates["in_memory"]),
        "achieved_flops": achieved,
        "share_of_peak": achieved / peak if achieved else None,
        "pipeline_ratio": statistics.median(ratios),
        "pipeline_ratios": ratios,
        "timed_steps": steps,
    }


def mflops(row: dict) -> str:
    flops = row["train_flops_per_example"]
    return f"{flops / 1e6:.2f}" if flops else "—"


def gflops(row: dict) -> str:
    return f"{row['achieved_flops'] / 1e9:.2f}" if row["achieved_flops"] else "—"


def share(row: dict) -> str:
    return f"{100 * row['share_of_peak']:.1f}" if row["share_of_peak"] else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed fit")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--min-seconds", type=float, default=2.0, help="more steps until a timed fit lasts this"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    peaks = {"float32": peak_flops("float32")}
    if native_bfloat16():
        peaks["bfloat16"] = peak_flops("bfloat16")
    for dtype, value in peaks.items():
        print(f"peak {dtype} matmul: {value / 1e9:.1f} GFLOP/s", flush=True)
    if "bfloat16" not in peaks:
        print("bfloat16: no native support on this CPU (no AVX512-BF16 / AMX): not measured")

    rows, failed = [], []

    def record() -> None:
        """Writes the figures so far (after every config: a long batch keeps what it did)."""
        if args.json:
            target = Path(args.json)
            partial = target.with_name(f".{target.name}.partial")
            document = {"peak_flops": peaks, "rows": rows, "failed": failed}
            partial.write_text(json.dumps(document, indent=2) + "\n")
            partial.replace(target)

    for path in args.configs:
        keras.backend.clear_session()
        try:
            row = measure(path, args.steps, args.repeats, peaks["float32"], args.min_seconds)
        except Exception as error:  # one config's failure does not end a long batch
            print(f"{Path(path).stem}: failed ({type(error).__name__}: {error})", flush=True)
            failed.append({"config": path, "error": f"{type(error).__name__}: {error}"})
            record()
            continue
        rows.append(row)
        record()
        print(
            f"{Path(path).stem}: {mflops(row)} MFLOP/example, {row['examples_per_second']:.0f}"
            f" ex/s, {gflops(row)} GFLOP/s = {share(row)} % of peak; pipeline real/in-memory"
            f" {row['pipeline_ratio']:.3f} ({', '.join(f'{r:.2f}' for r in row['pipeline_ratios'])})",
            flush=True,
        )

    print()
    print(
        "| config | params | train MFLOP/example | examples/s | GFLOP/s | % of fp32 peak | pipeline / in-memory |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| `{Path(row['config']).stem}` | {row['parameters']:,} | {mflops(row)} "
            f"| {row['examples_per_second']:,.0f} | {gflops(row)} | {share(row)} "
            f"| {row['pipeline_ratio']:.3f} |"
        )
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
