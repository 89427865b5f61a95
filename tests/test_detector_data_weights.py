"""The small codecs' weights kept for remaking the detector data: recorded, whole and loadable."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import detector_v3_codecs as dc  # noqa: E402


def test_every_kept_file_is_recorded_and_matches_its_hash() -> None:
    files = sorted(p.name for p in dc.WEIGHTS_DIR.glob("*.safetensors"))
    sums = dc._sums()
    assert files and sorted(sums) == files
    for name in files:
        assert hashlib.sha256((dc.WEIGHTS_DIR / name).read_bytes()).hexdigest() == sums[name], name
    assert sum((dc.WEIGHTS_DIR / n).stat().st_size for n in files) < 25_000_000


@pytest.mark.parametrize("spec", [s for s in dc.SPECS if (dc.WEIGHTS_DIR / f"{s.name}.safetensors").is_file()],
                         ids=lambda s: s.name)
def test_kept_weights_load_into_their_architecture(spec: dc.Spec) -> None:
    assert dc.load_committed(spec, dc.build(spec))


def test_only_the_transforms_are_rounded() -> None:
    from safetensors.torch import load_file

    spec = next(s for s in dc.SPECS if s.arch == "mean-scale")
    tensors = load_file(dc.WEIGHTS_DIR / f"{spec.name}.safetensors")
    entropy = {k: v.dtype for k, v in tensors.items() if k.startswith(("entropy_bottleneck.", "gaussian_conditional."))}
    transforms = {k: v.dtype for k, v in tensors.items() if k.startswith("g_s.") and v.is_floating_point()}
    assert entropy and all(d != dc.KEPT_DTYPE for d in entropy.values())
    assert transforms and all(d == dc.KEPT_DTYPE for d in transforms.values())


def test_a_changed_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dc.SPECS[0]
    data = bytearray((dc.WEIGHTS_DIR / f"{spec.name}.safetensors").read_bytes())
    data[-1] ^= 1
    (tmp_path / f"{spec.name}.safetensors").write_bytes(bytes(data))
    (tmp_path / "SHA256SUMS").write_text(dc.SUMS.read_text())
    monkeypatch.setattr(dc, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(dc, "SUMS", tmp_path / "SHA256SUMS")
    with pytest.raises(ValueError, match="is not the recorded"):
        dc.load_committed(spec, dc.build(spec))
