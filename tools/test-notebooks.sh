#!/usr/bin/env bash
# Run every lesson with nbval in a throw-away imgkit home (so a learner's own
# ~/.imgkit is never touched), then stop the lab the lessons started.
set -uo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d /tmp/imgkit-nbval.XXXXXX)
export IMGKIT_HOME="$home"
# Widgets are live views; nbval compares text, so lessons run with the text fallback.
export IMGKIT_WIDGETS=0
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/python -m pytest --nbval notebooks/*.ipynb \
  --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider "$@"
status=$?
.venv/bin/imgkit lab stop >/dev/null 2>&1 || true
rm -rf "$home"
exit $status
