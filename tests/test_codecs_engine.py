"""The engine: tiling, cancellation, progress, device choice, conversions and metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from codec_helpers import photo_like
from hypothesis import given, settings
from hypothesis import strategies as st

from examiner.codecs import devices, engine
from examiner.codecs.api import CodecFamily, CodecInfo, Reconstruction, RunOptions, bits_per_pixel
from examiner.core.tasks import TaskContext
from examiner.errors import Cancelled, CodecError


class OffsetCodec:
    """Adds its call number to every pixel, so the output shows which tile each pixel came from;
    the bitstream is the raw crop."""

    def __init__(self, tiling: bool = True, devices: tuple[str, ...] = ("cpu",)) -> None:
        self.info = CodecInfo(
            id="offset", name="Offset", family=CodecFamily.NEURAL, qualities=(1, 2), devices=devices,
            extra={"tiling": tiling, "accepts": ["rgb8"]},
        )  # fmt: skip
        self.calls: list[tuple[int, int]] = []
        self.devices: list[str] = []

    def available(self) -> tuple[bool, str]:
        return True, ""

    def run(self, image: np.ndarray, quality: int, options: RunOptions, ctx: TaskContext) -> Reconstruction:
        ctx.progress(0, 1, "tile")
        self.calls.append(image.shape[:2])
        self.devices.append(options.device)
        out = image.copy()
        out[...] = len(self.calls)
        data = image.tobytes()
        return Reconstruction(
            codec_id="offset", quality=quality, pixels=out, bitstream=data,
            bpp=bits_per_pixel(len(data), *image.shape[:2]), encode_s=0.01, decode_s=0.02, device=options.device,
        )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 900),
    w=st.integers(1, 900),
    budget=st.integers(40_000, 300_000),
    overlap=st.integers(0, 48),
)
def test_tiles_cover_every_pixel_once_and_respect_the_budget(h: int, w: int, budget: int, overlap: int) -> None:
    tiles = engine.plan_tiles(h, w, budget, overlap)
    owner = np.zeros((h, w), dtype=np.int32)
    for t in tiles:
        assert (t.y1 - t.y0) * (t.x1 - t.x0) <= max(budget, 0) or len(tiles) == 1
        assert t.y0 <= t.cy0 < t.cy1 <= t.y1 and t.x0 <= t.cx0 < t.cx1 <= t.x1
        # Inner core edges have the full overlap of context.
        assert t.cy0 - t.y0 == min(overlap, t.cy0) and t.y1 - t.cy1 == min(overlap, h - t.cy1)
        owner[t.cy0 : t.cy1, t.cx0 : t.cx1] += 1
    assert (owner == 1).all()
    if h * w <= budget:
        assert len(tiles) == 1


def test_tiled_run_stitches_cores_and_records_tiling() -> None:
    codec = OffsetCodec()
    img = photo_like(300, 500, seed=1)
    rec = engine.run(codec, img, 1, RunOptions(tile_budget_pixels=40_000, tile_overlap=16))
    assert rec.tiled and rec.tiles is not None
    n = rec.tiles["count"]
    assert n == len(codec.calls) > 1 and rec.tiles["overlap"] == 16 and rec.tiles["budget_pixels"] == 40_000
    for i, (y0, y1, x0, x1, cy0, cy1, cx0, cx1) in enumerate(rec.tiles["tiles"]):
        assert (rec.pixels[cy0:cy1, cx0:cx1] == i + 1).all()
        assert (y1 - y0) * (x1 - x0) <= 40_000
    header, streams = engine.unpack_tiles(rec.bitstream or b"")
    assert header["count"] == n and len(streams) == n and header["height"] == 300
    assert rec.bpp == pytest.approx(8 * len(rec.bitstream or b"") / (300 * 500))
    assert rec.encode_s == pytest.approx(0.01 * n) and rec.decode_s == pytest.approx(0.02 * n)
    assert any("tiles" in note for note in rec.notes)
    assert rec.to_record()["tiled"] is True


def test_small_images_and_untileable_codecs_run_in_one_piece() -> None:
    img = photo_like(100, 100)
    rec = engine.run(OffsetCodec(), img, 1, RunOptions(tile_budget_pixels=40_000, tile_overlap=16))
    assert not rec.tiled and rec.tiles is None
    big = photo_like(300, 500)
    codec = OffsetCodec(tiling=False)
    rec = engine.run(codec, big, 1, RunOptions(tile_budget_pixels=40_000, tile_overlap=16))
    assert not rec.tiled and codec.calls == [(300, 500)]


def test_tiling_budget_comes_from_the_settings() -> None:
    from examiner.core.settings import Settings

    s = Settings(tile_budget_pixels=50_000, tile_overlap=8)
    rec = engine.run(OffsetCodec(), photo_like(300, 300), 1, settings=s)
    assert rec.tiled and rec.tiles is not None and rec.tiles["overlap"] == 8


def test_cancellation_between_tiles() -> None:
    codec = OffsetCodec()
    ctx = TaskContext()
    seen: list[float] = []

    def on_progress(p) -> None:  # noqa: ANN001
        seen.append(p.fraction)
        if len(codec.calls) == 2:
            ctx.cancel.cancel()

    ctx.on_progress = on_progress
    with pytest.raises(Cancelled):
        engine.run(codec, photo_like(300, 500), 1, RunOptions(tile_budget_pixels=40_000, tile_overlap=16), ctx)
    assert len(codec.calls) == 2
    assert seen == sorted(seen)  # progress only moves forward


def test_cancelled_before_start_runs_nothing() -> None:
    codec = OffsetCodec()
    ctx = TaskContext()
    ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        engine.run(codec, photo_like(50, 50), 1, ctx=ctx)
    assert codec.calls == []


def test_device_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu_codec = OffsetCodec(devices=("cpu", "cuda"))
    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    assert devices.resolve_device("auto", gpu_codec.info) == "cpu"
    with pytest.raises(CodecError, match="torch sees no CUDA device"):
        devices.resolve_device("cuda", gpu_codec.info)
    monkeypatch.setattr(devices, "cuda_available", lambda: True)
    assert devices.resolve_device("auto", gpu_codec.info) == "cuda"
    assert devices.resolve_device("cpu", gpu_codec.info) == "cpu"
    cpu_codec = OffsetCodec()
    assert devices.resolve_device("auto", cpu_codec.info) == "cpu"
    with pytest.raises(CodecError, match="CPU only"):
        devices.resolve_device("cuda", cpu_codec.info)
    with pytest.raises(CodecError, match="auto, cpu or cuda"):
        devices.resolve_device("tpu", cpu_codec.info)


def test_generative_entry_points_that_bypass_the_engine_use_the_same_device_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """CDC's encode-once path (seed variability) used to resolve "auto" to CUDA even for a
    codec whose manifest names the CPU only."""
    from examiner.codecs.generative import CdcCodec

    monkeypatch.setattr(devices, "cuda_available", lambda: True)
    cpu_only = CdcCodec(CodecInfo("cdc-x", "CDC", CodecFamily.NEURAL, (1,), devices=("cpu",), stochastic=True,
                                  extra={"variant": "x"}))
    seen: list[str] = []

    def engine_on(path: object, expected: object, device: str, precision: object) -> object:
        seen.append(device)
        raise CodecError("stop here")

    monkeypatch.setattr(cpu_only, "engine", engine_on)
    monkeypatch.setattr("examiner.codecs.generative.weight_source", lambda info, q, o: (Path("w.pt"), None, "test"))
    with pytest.raises(CodecError, match="stop here"):
        cpu_only.compress(photo_like(32, 32), 1, RunOptions(device="auto"))
    assert seen == ["cpu"]
    with pytest.raises(CodecError, match="CPU only"):
        cpu_only.compress(photo_like(32, 32), 1, RunOptions(device="cuda"))


def test_conversions() -> None:
    grey16 = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    out, steps = engine.convert_for_codec(grey16, ("rgb8",))
    assert out.shape == (3, 4, 3) and out.dtype == np.uint8 and len(steps) == 2
    assert (out[..., 0] == np.round(grey16 / 257)).all()
    same, none = engine.convert_for_codec(grey16, ("grey16", "rgb8"))
    assert same is grey16 and none == []
    eight = np.arange(256, dtype=np.uint16) * 257
    assert (engine.to_8bit(eight) == np.arange(256)).all()  # exact for values that came from 8 bits
    with pytest.raises(CodecError, match="HxW"):
        engine.image_form(np.zeros((4, 4, 4), np.uint8))


def test_psnr_and_ms_ssim() -> None:
    a = photo_like(256, 256, seed=2)
    assert engine.psnr(a, a) == float("inf")
    assert engine.ms_ssim(a, a) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    light = np.clip(a.astype(int) + rng.normal(0, 3, a.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(a.astype(int) + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    assert engine.psnr(a, light) > engine.psnr(a, heavy) > 15
    assert 1.0 > engine.ms_ssim(a, light) > engine.ms_ssim(a, heavy) > 0.3
    mse = np.mean((a.astype(float) - heavy.astype(float)) ** 2)
    assert engine.psnr(a, heavy) == pytest.approx(10 * np.log10(255**2 / mse))
    assert engine.ms_ssim(a[:150], a[:150]) is None  # too small for five scales
    assert engine.ms_ssim_min_side() == 161
    with pytest.raises(CodecError, match="sizes"):
        engine.psnr(a, a[:10])


def test_ms_ssim_matches_a_torch_reference() -> None:
    """Cross-check against an independent torch implementation of the pytorch-msssim recipe."""
    import torch
    import torch.nn.functional as F

    a = photo_like(200, 230, seed=3)
    b = np.clip(a.astype(int) + np.random.default_rng(1).normal(0, 10, a.shape), 0, 255).astype(np.uint8)
    x = torch.from_numpy(a).permute(2, 0, 1)[None].double()
    y = torch.from_numpy(b).permute(2, 0, 1)[None].double()
    g = torch.exp(-((torch.arange(11) - 5.0) ** 2) / (2 * 1.5**2)).double()
    g = (g / g.sum())
    wx, wy = g.view(1, 1, 1, 11).repeat(3, 1, 1, 1), g.view(1, 1, 11, 1).repeat(3, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, wx, groups=3), wy, groups=3)

    weights = torch.tensor([0.0448, 0.2856, 0.3001, 0.2363, 0.1333]).double()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mcs = []
    for i in range(5):
        mu1, mu2 = blur(x), blur(y)
        s1, s2, s12 = blur(x * x) - mu1**2, blur(y * y) - mu2**2, blur(x * y) - mu1 * mu2
        cs = (2 * s12 + c2) / (s1 + s2 + c2)
        ssim = ((2 * mu1 * mu2 + c1) / (mu1**2 + mu2**2 + c1)) * cs
        cs_c, ssim_c = cs.flatten(2).mean(-1), ssim.flatten(2).mean(-1)
        if i < 4:
            mcs.append(torch.relu(cs_c))
            pad = [s % 2 for s in x.shape[2:]]
            x, y = F.avg_pool2d(x, 2, padding=pad), F.avg_pool2d(y, 2, padding=pad)
    vals = torch.stack(mcs + [torch.relu(ssim_c)], dim=0)
    ref = torch.prod(vals ** weights.view(-1, 1, 1), dim=0).mean().item()
    assert engine.ms_ssim(a, b) == pytest.approx(ref, abs=2e-4)


def test_recorded_versions_are_plain_strings() -> None:
    # A str subclass (torch's TorchVersion) would drag torch into any process unpickling a result.
    import numpy as np

    from examiner.codecs import engine
    from examiner.codecs.api import RunOptions
    from examiner.core.tasks import TaskContext

    img = (np.random.default_rng(1).random((64, 64, 3)) * 255).astype(np.uint8)
    rec = engine.run("jpeg", img, 50, RunOptions(), TaskContext())
    assert rec.versions and all(type(k) is str and type(v) is str for k, v in rec.versions.items())
