"""What the trainer adds to ``metrics.json`` and ``plots/`` after the test evaluation.

Reports are chosen by the data's task (``classification``, ``segmentation``,
``reconstruction``, ``word_embedding``), never by model name; :data:`REPORTS` lists them. A
report is ``function(model, data, run_dir) -> dict``; its dict is merged into ``metrics.json``.

What a report needs from a model beyond ``model(x)`` it asks through this small interface,
never by importing a model module or looking a layer up by name. A model class provides
whichever methods apply to it:

``curriculum_report(data, run_dir) -> dict``
    Figures only the model can compute (a VAE's importance-sampled likelihood); merged in.
``attention_maps(inputs) -> list[(tokens, weights)]``
    For each input (a raw sentence for a text model), its tokens without padding and the
    self-attention weights ``(blocks, heads, T, T)``, each row summing to 1
    (``plots/attention.png``).
``word_embeddings(vocabulary) -> (words, table)``
    The learned word vectors, one row per word of ``words`` (``vectors.txt`` and the
    word-similarity and analogy scores).
``sample(n, seed=..., labels=None) -> images`` and ``num_classes`` (None unless conditional)
    A generator's images from noise fixed by ``seed`` (of ``labels``, for a conditional model):
    the ``image_generation`` report's grids, every epoch and at the end.
``vocabulary``, ``alignment(source_ids, decoder_ids) -> weights (batch, T, S)``,
``stateless() -> model`` and ``reset_state()``
    Sequence models (``reports/sequences.py``): the token of each id; an encoder–decoder's
    attention of each target step over the source tokens, each row summing to 1
    (``plots/attention.png``); a language model without carried state, for sampling; zeroing
    a language model's carried state before it reads the test text in order.
``detect(images) -> {"boxes", "scores", "labels", "num_detections"}``
    A detector's boxes (``rel_xyxy``) after non-maximum suppression, padded with −1
    (``reports/detection.py``: COCO mAP and the precision–recall curve).

A task may also need work done during training: :data:`CALLBACKS` maps a data task to
factories ``function(model, data, run_dir) -> [keras.callbacks.Callback]`` (a GAN's sample
grid after every epoch), which the trainer adds to every run of that task.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from keras_curriculum.reports import (
    attention,
    classification,
    detection,
    embeddings,
    explain,
    forecasting,
    generative,
    metric_learning,
    reconstruction,
    segmentation,
    sequences,
)

Report = Callable[..., dict[str, Any]]

REPORTS: dict[str, list[Report]] = {
    "classification": [
        classification.classification_report,
        attention.attention_report,
        explain.explain_report,
    ],
    "segmentation": [segmentation.segmentation_report],
    "localization": [detection.localization_report],
    "detection": [detection.detection_report],
    "reconstruction": [reconstruction.reconstruction_report],
    "word_embedding": [embeddings.embedding_report],
    "image_generation": [generative.generative_report],
    "metric_learning": [metric_learning.metric_learning_report],
    "language_model": [sequences.language_model_report],
    "seq2seq": [sequences.seq2seq_report],
    "forecasting": [forecasting.forecasting_report],
}

CALLBACKS: dict[str, list[Callable[..., list[Any]]]] = {
    "image_generation": [generative.sample_callbacks],
}


def epoch_callbacks(model, data, run_dir: Path) -> list[Any]:
    """The Keras callbacks the data's task asks for during training (:data:`CALLBACKS`)."""
    return [
        c for factory in CALLBACKS.get(data.info.task, []) for c in factory(model, data, run_dir)
    ]


def run_reports(model, data, run_dir: Path) -> dict[str, Any]:
    """Every report of the data's task, then the model's own ``curriculum_report``."""
    results: dict[str, Any] = {}
    if data.test is None:
        return results
    for report in REPORTS.get(data.info.task, []):
        results.update(report(model, data, run_dir) or {})
    own = getattr(model, "curriculum_report", None)
    if callable(own):
        results.update(own(data, run_dir) or {})
    return results
