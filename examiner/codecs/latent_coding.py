"""Entropy coding of quantised latents with ``constriction`` (range coding).

The generative codecs' reference code either has no entropy coder (CDC reports a theoretical
rate) or a coder with a known defect (HiFiC, see :mod:`examiner.codecs.hific.reference_coder`).
This coder produces real, lossless bitstreams so bit rates come from real bytes:

* conditional latents (a Gaussian or logistic with a predicted scale per element) are grouped by
  the index of their scale in a fixed log-spaced table and each group is coded i.i.d. with the
  table scale, which keeps encoder and decoder in step even if the float scale differs in the
  last bits between machines (only a scale sitting on a table boundary can still flip);
* factorised hyper-latents use one table per channel from the learned density;
* every symbol between the minimum and maximum written in the header can be coded, so nothing
  is clipped or escaped.

Container: ``magic(4) | n(u8) | n x int64 header fields | per section: u32 word count + words``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import constriction
import numpy as np
from scipy.special import expit
from scipy.stats import norm

from examiner.errors import CodecError


def scale_table(min_scale: float, max_scale: float = 256.0, levels: int = 64) -> np.ndarray:
    return np.exp(np.linspace(np.log(min_scale), np.log(max_scale), levels))


def scale_indexes(scales: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of the smallest table scale that is >= each scale (the last one for larger scales)."""
    idx = np.searchsorted(table, np.asarray(scales, dtype=np.float64), side="left")
    return np.minimum(idx, len(table) - 1)


def quantised_pmf(family: str, scale: float, lo: int, hi: int) -> np.ndarray:
    """P(k) for integers k in [lo, hi] of a zero-mean density integrated over [k-0.5, k+0.5]."""
    k = np.arange(lo, hi + 1, dtype=np.float64)
    if family == "gaussian":
        upper, lower = norm.cdf((k + 0.5) / scale), norm.cdf((k - 0.5) / scale)
        # Far in the right tail the difference of CDFs underflows; use survival functions there.
        alt = norm.sf((k - 0.5) / scale) - norm.sf((k + 0.5) / scale)
        p = np.where(k > 0, alt, upper - lower)
    elif family == "logistic":
        p = np.where(
            k > 0,
            expit(-(k - 0.5) / scale) - expit(-(k + 0.5) / scale),
            expit((k + 0.5) / scale) - expit((k - 0.5) / scale),
        )
    else:
        raise CodecError(f"unknown latent distribution {family!r}")
    return np.maximum(p, 1e-12)


def _model(pmf: np.ndarray) -> constriction.stream.model.Categorical:
    p = np.asarray(pmf, dtype=np.float64)
    if p.size == 0 or not np.isfinite(p).all() or p.sum() <= 0:
        raise CodecError("the entropy model gave no usable probabilities (non-finite model output)")
    return constriction.stream.model.Categorical(p, perfect=False)


def symbol_bounds(symbols: np.ndarray) -> tuple[int, int]:
    """Smallest and largest symbol, widened to at least two symbols (a one-symbol alphabet is
    not a distribution the coder accepts)."""
    lo, hi = int(np.min(symbols)), int(np.max(symbols))
    return lo, max(hi, lo + 1)


# The widest alphabet one coded range may span; the encoder refuses wider and the decoders treat
# a wider header range as corruption, so both sides must read the same limit.
MAX_ALPHABET = 1 << 16


def symbol_range_fits(lo: int, hi: int) -> bool:
    return lo <= hi and hi - lo + 1 <= MAX_ALPHABET


def check_symbol_range(lo: int, hi: int, what: str) -> None:
    if not symbol_range_fits(lo, hi):
        raise CodecError(f"{what} symbols span {lo}..{hi}, beyond what the bitstream format codes")


def encode_hyperprior(
    z_symbols: np.ndarray,
    z_pmfs: Callable[[int, int], np.ndarray],
    y_symbols: np.ndarray,
    y_scales: np.ndarray,
    family: str,
    table: np.ndarray,
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]:
    """Code a factorised hyper-latent ``z`` and the latent ``y`` conditioned on it.

    ``z_pmfs(lo, hi)`` gives the per-channel probabilities of ``lo .. hi``. Returns the symbol
    bounds ``(zlo, zhi, ylo, yhi)`` the header must carry, and the z and y word sections."""
    zlo, zhi = symbol_bounds(z_symbols)
    ylo, yhi = symbol_bounds(y_symbols)
    check_symbol_range(zlo, zhi, "hyper-latent")
    check_symbol_range(ylo, yhi, "latent")
    z_words = encode_per_channel(z_symbols, z_pmfs(zlo, zhi), zlo)
    y_words = encode_conditional(y_symbols, y_scales, family, table, ylo, yhi)
    return (zlo, zhi, ylo, yhi), z_words, y_words


def hyperprior_information_bits(
    y_symbols: np.ndarray,
    y_scales: np.ndarray,
    family: str,
    z_symbols: np.ndarray,
    z_pmfs: Callable[[int, int], np.ndarray],
) -> float:
    """Ideal code length of ``y`` and ``z`` under the model's own likelihoods, unquantised
    scales and no scale table (the rate the reference implementations report)."""
    k = np.abs(np.asarray(y_symbols, dtype=np.float64))
    s = np.asarray(y_scales, dtype=np.float64)
    if family == "gaussian":
        p = norm.cdf((0.5 - k) / s) - norm.cdf(-(0.5 + k) / s)
    else:
        p = expit((0.5 - k) / s) - expit(-(0.5 + k) / s)
    lo = int(z_symbols.min())
    pz = z_pmfs(lo, int(z_symbols.max()))
    pzv = np.take_along_axis(pz, z_symbols.reshape(z_symbols.shape[0], -1) - lo, axis=1)
    return information_bits(np.maximum(p, 1e-9)) + information_bits(np.maximum(pzv, 1e-9))


def encode_conditional(
    symbols: np.ndarray, scales: np.ndarray, family: str, table: np.ndarray, lo: int, hi: int
) -> np.ndarray:
    """Code integer ``symbols`` (any shape) given per-element scales; returns uint32 words."""
    sym = np.asarray(symbols, dtype=np.int64).ravel()
    idx = scale_indexes(scales, table).ravel()
    enc = constriction.stream.queue.RangeEncoder()
    for t in np.unique(idx):
        group = sym[idx == t]
        enc.encode((group - lo).astype(np.int32), _model(quantised_pmf(family, float(table[t]), lo, hi)))
    return enc.get_compressed()


def decode_conditional(
    words: np.ndarray, scales: np.ndarray, family: str, table: np.ndarray, lo: int, hi: int
) -> np.ndarray:
    idx = scale_indexes(scales, table).ravel()
    out = np.empty(idx.shape, dtype=np.int64)
    dec = constriction.stream.queue.RangeDecoder(np.asarray(words, dtype=np.uint32))
    for t in np.unique(idx):
        mask = idx == t
        model = _model(quantised_pmf(family, float(table[t]), lo, hi))
        out[mask] = dec.decode(model, int(mask.sum())).astype(np.int64) + lo
    return out.reshape(np.shape(scales))


def encode_per_channel(symbols: np.ndarray, pmfs: np.ndarray, lo: int) -> np.ndarray:
    """``symbols``: (C, ...) integers; ``pmfs``: (C, n) probabilities of lo .. lo+n-1."""
    enc = constriction.stream.queue.RangeEncoder()
    for c in range(symbols.shape[0]):
        enc.encode((np.asarray(symbols[c], dtype=np.int64).ravel() - lo).astype(np.int32), _model(pmfs[c]))
    return enc.get_compressed()


def decode_per_channel(words: np.ndarray, pmfs: np.ndarray, lo: int, shape: Sequence[int]) -> np.ndarray:
    dec = constriction.stream.queue.RangeDecoder(np.asarray(words, dtype=np.uint32))
    per = int(np.prod(shape[1:]))
    out = np.empty((shape[0], per), dtype=np.int64)
    for c in range(shape[0]):
        out[c] = dec.decode(_model(pmfs[c]), per).astype(np.int64) + lo
    return out.reshape(tuple(shape))


def pack(magic: bytes, fields: Sequence[int], sections: Sequence[np.ndarray]) -> bytes:
    if len(magic) != 4 or len(fields) > 255:
        raise ValueError("bad container layout")
    parts = [magic, struct.pack("<B", len(fields)), struct.pack(f"<{len(fields)}q", *[int(f) for f in fields])]
    for words in sections:
        w = np.asarray(words, dtype="<u4")
        parts.append(struct.pack("<I", w.size))
        parts.append(w.tobytes())
    return b"".join(parts)


def unpack(magic: bytes, data: bytes, n_sections: int) -> tuple[list[int], list[np.ndarray]]:
    try:
        if data[:4] != magic:
            raise CodecError(f"not a {magic.decode('ascii', 'replace')} bitstream (wrong magic bytes)")
        n = data[4]
        pos = 5 + 8 * n
        fields = list(struct.unpack(f"<{n}q", data[5:pos]))
        sections = []
        for _ in range(n_sections):
            (count,) = struct.unpack("<I", data[pos : pos + 4])
            pos += 4
            if pos + 4 * count > len(data):
                raise CodecError("bitstream is truncated")
            sections.append(np.frombuffer(data[pos : pos + 4 * count], dtype="<u4").astype(np.uint32))
            pos += 4 * count
    except (struct.error, IndexError) as exc:
        raise CodecError(f"bitstream is truncated or corrupt ({exc})") from exc
    if pos != len(data):
        raise CodecError("bitstream has trailing bytes")
    return fields, sections


def information_bits(pmf_values: np.ndarray) -> float:
    """Ideal code length in bits of symbols with the given model probabilities."""
    return float(-np.log2(np.maximum(np.asarray(pmf_values, dtype=np.float64), 1e-300)).sum())
