#!/usr/bin/env bash
# Re-run lessons and save their outputs in place (what nbval compares against):
#   bash tools/execute-notebooks.sh                      # every lesson
#   bash tools/execute-notebooks.sh notebooks/05-*.ipynb # some
# Runs in a throw-away imgkit home, like the tests, so outputs do not depend
# on what your own ~/.imgkit holds.
set -euo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d /tmp/imgkit-lessons.XXXXXX)
export IMGKIT_HOME="$home"
# Widgets are live views; nbval compares text, so lessons run with the text fallback.
export IMGKIT_WIDGETS=0
export PATH="$PWD/.venv/bin:$PATH"
trap '.venv/bin/imgkit lab stop >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
if [ $# -eq 0 ]; then set -- notebooks/[0-9]*.ipynb; fi
for notebook in "$@"; do
  .venv/bin/jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=300 "$notebook" 2>&1 | grep -v "Kernel is running over TCP" || true
done
.venv/bin/python tools/notebook_index.py
