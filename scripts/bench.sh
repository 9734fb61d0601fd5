#!/usr/bin/env bash
# certdrift against ripgrep on a generated monorepo, side by side in one run.
#
#   scripts/bench.sh [--filler-mb N] [--clusters N] [--releases N] [--runs N] [--no-diff]
#
# Generates the corpus with ../shared/tools/gen-corpus.py (cached under
# $BENCH_DIR, default /tmp/certdrift-bench-<params>), builds certdrift in
# release mode, then prints for `certdrift scan M --format json` and
# `rg -c "BEGIN CERTIFICATE" M` the min/median/max wall time over --runs
# runs each (hyperfine, warm page cache), the ratio of the medians, peak RSS
# (GNU time -v), files/s and MB/s; and, unless --no-diff, `certdrift diff`
# of two revisions that differ in 10 files, in git mode and in directory
# mode, against one scan. Installs ripgrep, hyperfine and GNU time from
# Debian packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

filler=200 clusters=60 releases=30 runs=5 diff=1
while [ $# -gt 0 ]; do
  case "$1" in
    --filler-mb) filler=$2; shift 2 ;;
    --clusters) clusters=$2; shift 2 ;;
    --releases) releases=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-diff) diff=0; shift ;;
    *) echo "usage: $0 [--filler-mb N] [--clusters N] [--releases N] [--runs N] [--no-diff]" >&2; exit 2 ;;
  esac
done

need=()
command -v rg >/dev/null || need+=(ripgrep)
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  }
fi

out=${BENCH_DIR:-/tmp/certdrift-bench-$filler-$clusters-$releases}
if [ ! -f "$out/.done" ]; then
  rm -rf "$out"
  python3 ../shared/tools/gen-corpus.py --out "$out" --clusters "$clusters" \
    --releases "$releases" --filler-mb "$filler" >/dev/null
  touch "$out/.done"
fi
cargo build --release --locked -q
bin=$PWD/target/release/certdrift
now=(--now 2026-11-01T00:00:00Z)
bytes=$(du -sb --exclude=.git "$out" | cut -f1)
files=$(find "$out" -path "$out/.git" -prune -o -type f -print | wc -l)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "corpus:  $out  $((bytes / 1000000)) MB in $files files (filler $filler MB, $clusters clusters, $releases releases)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Median/min/max of one hyperfine result, in seconds.
stats() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; t=sorted(r["times"]); print("%.3f %.3f %.3f" % (t[0], t[len(t)//2] if len(t)%2 else (t[len(t)//2-1]+t[len(t)//2])/2, t[-1]))' "$1"
}
hf() { # name, command...
  local name=$1; shift
  hyperfine -N --style none --warmup 1 --runs "$runs" -i --export-json "$tmp/$name.json" "$*" >/dev/null 2>&1
  stats "$tmp/$name.json"
}

read -r c_min c_med c_max < <(hf certdrift "$bin scan ${now[*]} --format json --fail-on never $out")
read -r r_min r_med r_max < <(hf rg "rg -c 'BEGIN CERTIFICATE' $out")
rss=$(/usr/bin/time -f %M "$bin" scan "${now[@]}" --format json --fail-on never "$out" 2>&1 >/dev/null | tail -1)
rg_rss=$(/usr/bin/time -f %M rg -c 'BEGIN CERTIFICATE' "$out" 2>&1 >/dev/null | tail -1)
python3 - "$c_min" "$c_med" "$c_max" "$r_min" "$r_med" "$r_max" "$rss" "$rg_rss" "$bytes" "$files" <<'EOF'
import sys
c = list(map(float, sys.argv[1:4])); r = list(map(float, sys.argv[4:7]))
rss, rg_rss, b, f = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10])
print(f"{'':10} {'min':>8} {'median':>8} {'max':>8} {'peak RSS':>10} {'files/s':>9} {'MB/s':>7}")
for name, t, m in (("certdrift", c, rss), ("rg", r, rg_rss)):
    print(f"{name:10} {t[0]:8.3f} {t[1]:8.3f} {t[2]:8.3f} {m/1024:8.1f}MB {f/t[1]:9.0f} {b/1e6/t[1]:7.0f}")
print(f"ratio of medians certdrift/rg: {c[1]/r[1]:.2f} (target <= 2)   peak RSS {rss/1024:.0f} MB (target <= 150)")
EOF

[ "$diff" = 1 ] || exit 0
# Two revisions differing in 10 files: git mode (one repo, two commits) and
# directory mode (two copies).
g=${out}-git
if [ ! -f "$g/.done" ]; then
  rm -rf "$g" "$g-head"
  cp -r "$out" "$g"
  rm -f "$g/.done"
  git -C "$g" init -q
  git -C "$g" -c user.email=b@example.org -c user.name=bench add -A
  git -C "$g" -c user.email=b@example.org -c user.name=bench commit -qm base
  i=0
  for f in $(cd "$g" && git ls-files 'rendered/*.yaml' | head -10); do
    printf '\n# change %d\n' "$i" >>"$g/$f"; i=$((i + 1))
  done
  git -C "$g" -c user.email=b@example.org -c user.name=bench commit -qam head
  git -C "$g" tag head HEAD
  git -C "$g" tag base HEAD~1
  git -C "$g" worktree add -q "$g-head" head
  git -C "$g" checkout -q base
  touch "$g/.done"
fi
read -r s_min s_med s_max < <(hf scan1 "$bin scan ${now[*]} --format json --fail-on never $g")
read -r g_min g_med g_max < <(hf diffgit "$bin diff ${now[*]} --format json --fail-on never --repo $g base head")
read -r d_min d_med d_max < <(hf diffdir "$bin diff ${now[*]} --format json --fail-on never $g $g-head")
python3 - "$s_med" "$g_med" "$d_med" <<'EOF'
import sys
s, g, d = map(float, sys.argv[1:4])
print(f"one scan {s:.3f}s; diff git mode {g:.3f}s = {g/s:.2f}x (target <= 1.2); diff directories {d:.3f}s = {d/s:.2f}x (target <= 2.2)")
EOF
