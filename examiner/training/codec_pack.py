"""The pack manifest (``codec.toml``) of the project's trained demonstration codecs.

Written by ``examiner train-codec`` and ``examiner train-generative``; the codecs are marked as
demonstration models in their names, descriptions and ``demonstration = true``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_pack_manifest(out: Path, record: dict[str, Any], codec_id: str, pack_name: str) -> Path:
    """Write ``codec.toml`` for the trained weights; the pack names the in-tree CompressAI runner.

    The codec is marked ``demonstration = true`` and says so in its name and description, so
    listings and reports can never present it as a published model.
    """
    cfg = record["config"]
    qualities = [w["quality"] for w in record["weights"]]
    lambdas = ", ".join(f"q{w['quality']}: {w['lambda']}" for w in record["weights"])
    description = (
        f"DEMONSTRATION CODEC trained by this project on CPU, not a published model. CompressAI "
        f"MeanScaleHyperprior (mbt2018-mean architecture) at reduced size N={cfg['n']}, M={cfg['m']}, "
        f"trained on 18 Kodak images for a few thousand steps (lambdas {lambdas}). "
        "See MODEL_CARD.md in the pack folder for its rate-distortion figures and limits."
    )
    lines = [
        "# Written by `examiner train-codec`; see MODEL_CARD.md. Demonstration weights trained by",
        "# this project: not a published model.",
        "[pack]",
        f"name = {_toml_str(pack_name)}",
        "manifest_version = 1",
        'runner = "compressai"',
        'licence = "Weights trained by this project for demonstration, from the Kodak test images '
        '(see MODEL_CARD.md for data provenance); CompressAI code: BSD-3-Clause-Clear"',
    ]
    lines += _codec_block(
        codec_id, "DEMO mean-scale hyperprior (project-trained, not a published model)", qualities,
        ["minnen2018joint", "begaint2020compressai", "franzen1999kodak"], description, record, "mse",
    )
    for w in record["weights"]:
        lines += [
            "",
            "[[codec.weights]]",
            f"quality = {w['quality']}",
            f"file = {_toml_str(w['file'])}",
            f"sha256 = {_toml_str(w['sha256'])}",
            f"size = {w['size']}",
            f"lambda = {w['lambda']}",
        ]
    lines += generative_manifest_lines(out, record, codec_id)
    manifest = out / "codec.toml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def _codec_block(codec_id: str, name: str, qualities: list[int], citations: list[str], description: str,
                 record: dict[str, Any], metric: str) -> list[str]:
    """A ``[[codec]]`` table of a demonstration codec with its ``[codec.compressai]`` table."""
    cfg = record["config"]
    return [
        "",
        "[[codec]]",
        f"id = {_toml_str(codec_id)}",
        f"name = {_toml_str(name)}",
        'family = "neural"',
        f"qualities = {json.dumps(qualities)}",
        f"citations = {json.dumps(citations)}",
        'devices = ["cpu", "cuda"]',
        "demonstration = true",
        "stochastic = false",
        f"description = {_toml_str(description)}",
        'accepts = ["rgb8"]',
        "tiling = true",
        "",
        "[codec.compressai]",
        f"architecture = {_toml_str(record['architecture'])}",
        f"metric = {_toml_str(metric)}",
        f"N = {cfg['n']}",
        f"M = {cfg['m']}",
    ]


GENERATIVE_RECORD = "generative_training.json"
# Appended to the base codec's id for its adversarially fine-tuned decoder; train-generative
# tells the base codec from it by this ending.
GAN_SUFFIX = "-gan"


def generative_manifest_lines(out: Path, record: dict[str, Any], codec_id: str) -> list[str]:
    """The ``[[codec]]`` block of the generative variant, when ``out`` holds one whose base file
    is still among the pack's weights (a retrained base leaves the old decoder out)."""
    path = out / GENERATIVE_RECORD
    if not path.is_file():
        return []
    gen = json.loads(path.read_text(encoding="utf-8"))
    base = next((w for w in record["weights"] if w["sha256"] == gen["base_sha256"]), None)
    if base is None or not (out / gen["decoder_file"]).is_file():
        return []
    res = gen["result"]
    description = (
        "DEMONSTRATION GENERATIVE CODEC trained by this project on CPU, not a published model. The "
        f"quality-{base['quality']} demonstration model with its decoder g_s fine-tuned for "
        f"{gen['config']['steps']} steps with a HiFiC-style conditional adversarial loss (patch "
        "discriminator that sees the latent, plus the distortion term). Same encoder and bitstream as "
        f"{codec_id} q{base['quality']}; the decoder synthesises detail (held-out PSNR "
        f"{res['heldout_before']['psnr']:.2f} -> {res['heldout_after']['psnr']:.2f} dB, high-frequency energy "
        f"{res['heldout_before']['high_frequency_ratio']:.3f} -> {res['heldout_after']['high_frequency_ratio']:.3f} "
        "of the original's). See MODEL_CARD.md."
    )
    return _codec_block(
        codec_id + GAN_SUFFIX, "DEMO generative decoder (project-trained, not a published model)", [1],
        ["mentzer2020hific", "minnen2018joint", "begaint2020compressai", "franzen1999kodak"], description, record,
        "mse+adversarial",
    ) + [
        "",
        "[[codec.weights]]",
        "quality = 1",
        f"file = {_toml_str(base['file'])}",
        f"sha256 = {_toml_str(base['sha256'])}",
        f"decoder_file = {_toml_str(gen['decoder_file'])}",
        f"decoder_sha256 = {_toml_str(gen['decoder_sha256'])}",
        f"size = {gen['decoder_size']}",
    ]
