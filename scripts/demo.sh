#!/usr/bin/env bash
# The main job on the embedded default: scan the bundled sample photos (real Tesseract),
# save them as recipes of user 1 in the SQLite default (./just-ingredients.db, created and
# migrated on first use), then list and search what was saved.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(scripts/bootstrap.sh | tail -n 1)
export OMP_THREAD_LIMIT=1
ji() { "$UV" run --frozen --no-sync just-ingredients "$@"; }
ji scan samples/photos/*.jpg --save --user 1
ji recipes list --user 1
ji recipes search farine --user 1
