#!/usr/bin/env bash
# Run lessons with nbval in a throw-away imgkit home (so a learner's own
# ~/.imgkit is never touched), then stop the lab the lessons started.
#   bash tools/test-notebooks.sh                       # every lesson
#   bash tools/test-notebooks.sh notebooks/05-*.ipynb  # some (other arguments go to pytest)
set -uo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d /tmp/imgkit-nbval.XXXXXX)
export IMGKIT_HOME="$home"
# Widgets are live views; nbval compares text, so lessons run with the text fallback.
export IMGKIT_WIDGETS=0
export PATH="$PWD/.venv/bin:$PATH"
notebooks=() options=()
for arg in "$@"; do
  case "$arg" in *.ipynb) notebooks+=("$arg") ;; *) options+=("$arg") ;; esac
done
[ ${#notebooks[@]} -eq 0 ] && notebooks=(notebooks/[0-9]*.ipynb)
.venv/bin/python -m pytest --nbval "${notebooks[@]}" \
  --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider "${options[@]}"
status=$?
.venv/bin/imgkit lab stop >/dev/null 2>&1 || true
rm -rf "$home"
exit $status
