#!/usr/bin/env bash
# Smoke test of the standalone build: run the frozen executable headless.
#   packaging/smoke_test.sh [DIST_FOLDER]   (default: dist/cnnviz)
set -euo pipefail
DIST="${1:-dist/cnnviz}"
EXE="$DIST/cnnviz"
export QT_QPA_PLATFORM=offscreen
export TF_CPP_MIN_LOG_LEVEL=2

fail() { echo "smoke test FAILED: $*" >&2; exit 1; }

[ -x "$EXE" ] || fail "no executable at $EXE"

version=$("$EXE" --version) || fail "--version exited $?"
echo "$version" | grep -q '^cnnviz [0-9]' || fail "--version printed '$version'"
echo "ok: --version -> $version"

model=$(find "$DIST" -path '*cnnviz_gui/_resources/models/mnist_cnn.keras' | head -n 1)
[ -n "$model" ] || fail "the bundled model is not in $DIST"
start=$(date +%s)
info=$("$EXE" info "$model") || fail "info exited $?"
echo "$info" | grep -q 'Conv2D_3' || fail "info did not list Conv2D_3:\n$info"
echo "ok: info on the bundled model ($(( $(date +%s) - start )) s)"

"$EXE" info "$DIST/no-such-model.keras" >/dev/null 2>&1 && fail "info on a missing file exited 0"
echo "ok: info on a missing file exits non-zero"

[ -f "$DIST/share/applications/cnnviz.desktop" ] || fail "no .desktop file"
[ -f "$DIST/share/icons/hicolor/256x256/apps/cnnviz.png" ] || fail "no 256 px icon"
[ -f "$DIST/share/mime/packages/cnnviz.xml" ] || fail "no session mime type"
echo "ok: .desktop file, icons and session file type"
[ -n "$(find "$DIST" -path '*cnnviz_gui/_resources/docs/user-guide.md')" ] || fail "the user guide is not bundled"
echo "ok: user guide bundled"
echo "smoke test passed: $(du -sh "$DIST" | cut -f1) in $DIST"
