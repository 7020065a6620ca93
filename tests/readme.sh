#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make readme: run the README's examples with the current binary and put
# their output in place, between a line "<!-- make readme: NAME -->" and
# the end of the code block that follows it. Root, as heaptrail needs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ "$(id -u)" = 0 ] || { echo "make readme must run as root"; exit 1; }
OUT=$(mktemp -d /tmp/heaptrail-readme.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# demo: make demo's final report; demo-folded: its folded file
./heaptrail -i 2 -n 3 -f "$OUT/demo.folded" -- tests/bin/leaky 1000 100 6 \
	>"$OUT/demo.all" 2>/dev/null
awk '/^heaptrail: pid /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' \
	"$OUT/demo.all" | sed '/^$/d' >"$OUT/demo"
cp "$OUT/demo.folded" "$OUT/demo-folded"
# faults: the same program under --faults
{
	echo '$ heaptrail --faults -d 6 -n 1 -- tests/bin/leaky 1000 100 5'
	./heaptrail --faults -d 6 -n 1 -- tests/bin/leaky 1000 100 5 2>/dev/null |
		awk '/^heaptrail: pid /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' |
		sed '/^$/d' | grep -v '^heaptrail: pid \|^dropped: \|^ignored: \|^symbolized \|^top '
} >"$OUT/faults"

/usr/bin/python3 - "$ROOT/README.md" "$OUT" <<'PY'
import os, re, sys
path, out = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
res, i, done = [], 0, []
while i < len(lines):
    res.append(lines[i])
    m = re.match(r"<!-- make readme: ([a-z-]+) -->$", lines[i])
    i += 1
    if not m:
        continue
    name = m.group(1)
    while i < len(lines) and not lines[i].startswith("```"):
        res.append(lines[i]); i += 1
    res.append(lines[i]); i += 1          # the opening fence
    while i < len(lines) and lines[i] != "```":
        i += 1                            # the old output
    res.extend(open(os.path.join(out, name)).read().rstrip("\n").split("\n"))
    done.append(name)
tmp = path + ".tmp"
open(tmp, "w").write("\n".join(res))
os.rename(tmp, path)
print("make readme: updated", ", ".join(done) or "nothing")
PY
