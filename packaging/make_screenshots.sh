#!/usr/bin/env bash
# Regenerate the GUI pictures of the guide and the README in docs/screenshots/, headlessly.
# Usage: bash packaging/make_screenshots.sh            (the demo case, built on first use)
#        CASE=path/to/case.mcase bash packaging/make_screenshots.sh
# When the demo cannot be built (its bundled codec missing), a stand-in case is rendered by
# packaging/screenshot_case.py from the same synthetic scene.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=docs/screenshots
SIZE=${SIZE:-1400x860}
mkdir -p "$OUT"
export QT_QPA_PLATFORM=offscreen
# A private config dir: the pictures must not depend on this user's remembered window layout.
EXAMINER_CONFIG_DIR=$(mktemp -d)
export EXAMINER_CONFIG_DIR
trap 'rm -rf "$EXAMINER_CONFIG_DIR"' EXIT

if [ -n "${CASE:-}" ]; then
  SOURCE=("$CASE")
elif DEMO_JSON=$("$PY" -m examiner demo --json 2>/dev/null); then
  # A copy of the demo case with one region fully described, for the region editor picture.
  DEMO=$(printf '%s' "$DEMO_JSON" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["case"])')
  cp "$DEMO" "$EXAMINER_CONFIG_DIR/pictures.mcase"
  "$PY" -m examiner case add-region "$EXAMINER_CONFIG_DIR/pictures.mcase" --evidence 1 \
    --polygon 536,236,694,236,694,322,536,322 --category shape --category amplitude --symbol \
    --evidence-says "notice unreadable: the letters are smeared into blobs" \
    --comparison-says "NO PARKING 8-18 / EXCEPT LOADING / PERMIT ZONE B7 / TOW AWAY 24H" \
    --comparison reference --confidence high \
    --notes "Glyph shapes lost at the demo codec's lowest rate; the frame and layout survive." >/dev/null
  SOURCE=("$EXAMINER_CONFIG_DIR/pictures.mcase")
  EDITOR_REGION=3
else
  echo "demo case unavailable; using the stand-in case from packaging/screenshot_case.py" >&2
  SOURCE=("$("$PY" packaging/screenshot_case.py "$EXAMINER_CONFIG_DIR/stand-in")")
  EDITOR_REGION=1
fi
EDITOR_REGION=${EDITOR_REGION:-1}

shot() {  # shot NAME ARGS...
  local name=$1
  shift
  "$PY" -m examiner gui "${SOURCE[@]}" --size "$SIZE" --screenshot "$OUT/$name.png" "$@"
  # 256-colour palette PNGs keep each picture small enough for the repository.
  "$PY" - "$OUT/$name.png" <<'PYEOF'
import sys
from PIL import Image
p = sys.argv[1]
Image.open(p).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(p, optimize=True)
PYEOF
  echo "$OUT/$name.png: $(du -k "$OUT/$name.png" | cut -f1) KB"
}

shot main-window
for mode in side flicker swipe difference ssim; do
  shot "compare-$mode" --compare "$mode"
done
shot region-editor --select-region "$EDITOR_REGION" --jump
shot analysis-detection --detect --tile-overlay
