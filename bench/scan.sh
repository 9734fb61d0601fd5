#!/usr/bin/env bash
# Measures scan speed and peak memory on a generated corpus.
#   bench/scan.sh [FILLER_MB] [CLUSTERS] [RELEASES]
# Needs ../shared/tools/gen-corpus.py (python3 + cryptography + PyYAML) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-200}; clusters=${2:-20}; releases=${3:-30}
out=${BENCH_DIR:-/tmp/certdrift-bench-$mb-$clusters-$releases}
if [ ! -f "$out/.done" ]; then
  python3 ../shared/tools/gen-corpus.py --out "$out" --clusters "$clusters" --releases "$releases" --filler-mb "$mb" >/dev/null
  touch "$out/.done"
fi
cargo build --release --locked -q
bin=target/release/certdrift
size=$(du -sb "$out" | cut -f1)
files=$(find "$out" -type f | wc -l)
echo "corpus: $out  $((size / 1000000)) MB in $files files"
cat "$out"/* >/dev/null 2>&1 || true  # warm the page cache (top level only; the walk below warms the rest)
"$bin" scan --now 2026-11-01T00:00:00Z --format json --fail-on never "$out" >/dev/null
for t in 1 2; do
  /usr/bin/time -f "threads=$t wall=%es user=%Us sys=%Ss maxrss=%MKB" \
    "$bin" scan --now 2026-11-01T00:00:00Z --format json --fail-on never --threads "$t" "$out" >/dev/null
done
