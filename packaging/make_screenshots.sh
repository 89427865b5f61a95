#!/usr/bin/env bash
# Regenerate the README's GUI pictures in docs/screenshots/, headlessly.
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
elif "$PY" -m examiner demo >/dev/null 2>&1; then
  SOURCE=(--demo)
else
  echo "demo case unavailable; using the stand-in case from packaging/screenshot_case.py" >&2
  SOURCE=("$("$PY" packaging/screenshot_case.py "$EXAMINER_CONFIG_DIR/stand-in")")
fi

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
shot region-editor --select-region 1 --jump
shot analysis-detection --detect --tile-overlay
