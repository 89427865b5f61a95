"""Pack discovery: manifests are read without importing torch; third-party packs just work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from codec_helpers import photo_like
from conftest import REPO_ROOT

from examiner.codecs import engine, packs, registry
from examiner.codecs.api import CodecFamily
from examiner.core.settings import Settings, user_codec_dir
from examiner.errors import CodecError

ZOO = {
    "bmshj2018-factorized": 8,
    "bmshj2018-hyperprior": 8,
    "mbt2018-mean": 8,
    "mbt2018": 8,
    "cheng2020-anchor": 6,
    "cheng2020-attn": 6,
}


def test_builtin_packs_list_every_codec_without_importing_torch() -> None:
    code = (
        "import sys, json; from examiner.codecs.registry import list_codecs;"
        "e, p = list_codecs();"
        "print(json.dumps({'ids': sorted(x.info.id for x in e), 'problems': [str(x) for x in p],"
        " 'torch': 'torch' in sys.modules, 'compressai': 'compressai' in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["problems"] == [] and not data["torch"] and not data["compressai"]
    expected = {"jpeg", "webp", "avif", "jpegxl"} | {f"{m}-{k}" for m in ZOO for k in ("mse", "ms-ssim")}
    assert expected <= set(data["ids"])


def test_compressai_manifest_lists_every_official_weight_file() -> None:
    import importlib.util
    import re

    # Read the zoo's URL table as text: importing compressai would load torch for nothing.
    spec = importlib.util.find_spec("compressai")
    assert spec is not None and spec.origin is not None
    zoo = (Path(spec.origin).parent / "zoo" / "image.py").read_text()
    official = set(re.findall(r'/([A-Za-z0-9_.-]+\.pth\.tar)"', zoo))
    infos = {i.id: i for i in registry.codec_infos()}
    listed: set[str] = set()
    for arch, count in ZOO.items():
        for metric in ("mse", "ms-ssim"):
            info = infos[f"{arch}-{metric}"]
            assert info.family is CodecFamily.NEURAL and info.qualities == tuple(range(1, count + 1))
            assert info.extra["compressai"] == {"architecture": arch, "metric": metric}
            assert sorted(w["quality"] for w in info.extra["weights"]) == list(info.qualities)
            listed |= {w["file"] for w in info.extra["weights"]}
    assert len(official) == 2 * sum(ZOO.values()) == 88
    assert listed == official


def _write_pack(root: Path, name: str, body: str, adapter: str | None = None) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "codec.toml").write_text(body)
    if adapter is not None:
        (d / "adapter.py").write_text(adapter)
    return d


IDENTITY_ADAPTER = """
from examiner.codecs.api import Reconstruction, bits_per_pixel

class Identity:
    def __init__(self, info):
        self.info = info
    def available(self):
        return True, ""
    def run(self, image, quality, options, ctx):
        data = image.tobytes()
        return Reconstruction(self.info.id, quality, image.copy(), data,
                              bits_per_pixel(len(data), *image.shape[:2]), 0.0, 0.0, options.device)

def create(info):
    return Identity(info)
"""

IDENTITY_TOML = """
[pack]
name = "Identity"
adapter = "adapter.py"
licence = "MIT"

[[codec]]
id = "{cid}"
name = "Identity"
family = "classical"
qualities = [1, 3, 5]
citations = []
accepts = ["rgb8", "grey8", "rgb16", "grey16"]
"""


def test_third_party_pack_in_user_dir_and_extra_dir(tmp_path: Path) -> None:
    _write_pack(user_codec_dir() / "packs", "ident", IDENTITY_TOML.format(cid="ident"), IDENTITY_ADAPTER)
    extra = tmp_path / "lab-packs"
    _write_pack(extra, "ident2", IDENTITY_TOML.format(cid="ident-extra"), IDENTITY_ADAPTER)
    s = Settings(extra_codec_dirs=[str(extra)])
    s.save()
    # The settings file is the front end's to read: without settings the extra folder is unknown.
    assert "ident-extra" not in {e.info.id for e in registry.list_codecs()[0]}
    entries, problems = registry.list_codecs(s)
    by_id = {e.info.id: e for e in entries}
    assert problems == []
    assert by_id["ident"].pack.origin == "user" and by_id["ident-extra"].pack.origin == "extra"
    assert by_id["ident"].info.qualities == (1, 3, 5)
    img = photo_like(20, 30)
    rec = engine.run("ident-extra", img, 3, settings=s)
    assert (rec.pixels == img).all()
    with pytest.raises(CodecError, match="no quality 2"):
        engine.run("ident", img, 2)


def test_a_changed_manifest_gives_a_fresh_codec_object() -> None:
    # Worker processes live for the whole session: a codec object built from an older
    # manifest must not outlive the manifest.
    import os

    root = user_codec_dir() / "packs"
    _write_pack(root, "ident3", IDENTITY_TOML.format(cid="ident3"), IDENTITY_ADAPTER)
    first = registry.get_codec("ident3")
    assert registry.get_codec("ident3") is first
    manifest = root / "ident3" / "codec.toml"
    manifest.write_text(IDENTITY_TOML.format(cid="ident3").replace("[1, 3, 5]", "[1, 3, 5, 7]"), encoding="utf-8")
    st = manifest.stat()
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = registry.get_codec("ident3")
    assert again is not first and again.info.qualities == (1, 3, 5, 7)


def test_broken_and_clashing_packs_are_reported_not_fatal() -> None:
    root = user_codec_dir() / "packs"
    _write_pack(root, "broken", "[pack\nname=")
    _write_pack(root, "nofamily", '[pack]\nname="x"\nadapter="adapter.py"\n[[codec]]\nid="nf"\nqualities=[1]\n', "")
    _write_pack(root, "clash", IDENTITY_TOML.format(cid="jpeg"), IDENTITY_ADAPTER)
    _write_pack(root, "escape", IDENTITY_TOML.format(cid="esc").replace('"adapter.py"', '"../x.py"'))
    entries, problems = registry.list_codecs()
    text = "\n".join(map(str, problems))
    assert "unreadable manifest" in text
    assert "missing required key 'family'" in text
    assert "'jpeg' is already provided by" in text
    assert "outside the pack folder" in text
    jpeg = next(e for e in entries if e.info.id == "jpeg")
    assert jpeg.pack.origin == "built-in"
    with pytest.raises(CodecError, match="unknown codec 'nf'"):
        registry.get_codec("nf")


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('family = "quantum"', "not one of classical, neural, external"),
        ('devices = ["tpu"]', "devices must be taken from"),
        ("qualities = [5, 1]\nrange = true", "must be \\[min, max\\]"),
        ('id = "Bad Id"', "must be lower-case"),
    ],
)
def test_manifest_validation(tmp_path: Path, snippet: str, message: str) -> None:
    base = {
        "id": 'id = "ok"',
        "family": 'family = "classical"',
        "qualities": "qualities = [1]",
    }
    key = snippet.split(" ", 1)[0]
    if key in base:
        base[key] = snippet
    else:
        base["extra"] = snippet
    if key == "qualities":
        base["qualities"] = snippet
    body = '[pack]\nname = "t"\nadapter = "adapter.py"\n[[codec]]\n' + "\n".join(base.values()) + "\n"
    d = _write_pack(tmp_path, "p", body, IDENTITY_ADAPTER)
    with pytest.raises(CodecError, match=message):
        packs.read_pack(d)


def test_adapter_that_fails_to_import_gives_a_clear_error() -> None:
    _write_pack(user_codec_dir() / "packs", "boom", IDENTITY_TOML.format(cid="boom"), "raise ImportError('no libfoo')\n")
    registry.clear_cache()
    with pytest.raises(CodecError, match="adapter failed to import.*no libfoo"):
        registry.get_codec("boom")


def test_shipped_packs_name_a_manifest_version_and_an_in_tree_runner() -> None:
    for manifest in sorted((REPO_ROOT / "codecs").glob("*/codec.toml")):
        pack = packs.read_pack(manifest.parent, "built-in")
        assert pack.manifest_version == packs.MANIFEST_VERSION, manifest
        assert pack.runner in packs.RUNNERS and pack.adapter is None, manifest
        assert not (manifest.parent / "adapter.py").exists(), manifest


@pytest.mark.parametrize(
    ("pack_lines", "message"),
    [
        ("manifest_version = 2", "manifest_version 2 is newer than this build reads"),
        ('manifest_version = "1"', "'manifest_version' must be a positive integer"),
        ('runner = "tensorflow"', "runner 'tensorflow' is not one of"),
        ('runner = "pillow"\nadapter = "adapter.py"', "either 'runner' or 'adapter', not both"),
    ],
)
def test_manifest_version_and_runner_are_checked(tmp_path: Path, pack_lines: str, message: str) -> None:
    body = IDENTITY_TOML.format(cid="v").replace('adapter = "adapter.py"', pack_lines)
    d = _write_pack(tmp_path, "p", body, IDENTITY_ADAPTER)
    with pytest.raises(CodecError, match=message):
        packs.read_pack(d)


def test_a_manifest_without_a_version_is_read_as_version_1(tmp_path: Path) -> None:
    d = _write_pack(tmp_path, "p", IDENTITY_TOML.format(cid="old"), IDENTITY_ADAPTER)
    assert packs.read_pack(d).manifest_version == 1


@pytest.mark.parametrize(
    "line",
    [
        "from examiner.codecs.compressai_models import CompressAICodec",
        "import examiner.codecs.engine",
        "from examiner import core",
        "from examiner.core.evidence import load_image",
    ],
)
def test_an_adapter_reaching_past_the_codec_api_is_refused(line: str) -> None:
    _write_pack(user_codec_dir() / "packs", "reach", IDENTITY_TOML.format(cid="reach"), line + "\n" + IDENTITY_ADAPTER)
    registry.clear_cache()
    with pytest.raises(CodecError, match="may import only examiner.codecs.api.*runner = one of"):
        registry.get_codec("reach")


def test_an_adapter_may_import_the_codec_api_in_either_spelling() -> None:
    adapter = "from examiner.codecs import api\nimport examiner.codecs.api\n" + IDENTITY_ADAPTER
    _write_pack(user_codec_dir() / "packs", "apiok", IDENTITY_TOML.format(cid="apiok"), adapter)
    registry.clear_cache()
    assert registry.get_codec("apiok").info.id == "apiok"


def test_unchanged_manifests_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    root = user_codec_dir() / "packs"
    _write_pack(root, "cached", IDENTITY_TOML.format(cid="cached"), IDENTITY_ADAPTER)
    reads: list[Path] = []
    real = packs.read_pack

    def counting(pack_dir: Path, origin: str = "extra") -> packs.Pack:
        reads.append(pack_dir)
        return real(pack_dir, origin)

    monkeypatch.setattr(packs, "read_pack", counting)
    registry.list_codecs()
    first = len(reads)
    registry.list_codecs()
    registry.get_info("cached")
    assert len(reads) == first, "unchanged manifests were parsed again"
    manifest = root / "cached" / "codec.toml"
    manifest.write_text(IDENTITY_TOML.format(cid="cached").replace("[1, 3, 5]", "[1, 2]"), encoding="utf-8")
    st = manifest.stat()
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert registry.get_info("cached")[0].qualities == (1, 2)
    assert reads[-1] == root / "cached"
