# SPDX-License-Identifier: GPL-2.0
# The installed tool and its documentation, against the binary itself.

# long options in heaptrail --help, the README's Options block and the man
# page: the same set, so that none of them drifts from the binary
test_options_documented() {
	local h r m
	h=$("$HT" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	[ "$(wc -l <<<"$h")" -ge 25 ] || fail "--help lists only: $h"
	r=$(awk '/^## Options/ { on = 1; next } on && /^## / { exit } on' "$ROOT/README.md" |
		awk '/^```/ { c = !c; next } c' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	m=$(grep -oE '\\-\\-[a-z][a-z\\-]*' "$ROOT/user/heaptrail.8" | sed 's/\\-/-/g' | sort -u)
	[ "$h" = "$r" ] || fail "README Options vs --help: $(diff <(echo "$r") <(echo "$h") | grep '^[<>]' | tr '\n' ' ')"
	[ "$h" = "$m" ] || fail "man page vs --help: $(diff <(echo "$m") <(echo "$h") | grep '^[<>]' | tr '\n' ' ')"
}

# make install into a staging tree: the binary runs from there, the man
# page renders, the completion completes, the schema is the repo's
test_install_tree() {
	local d=$TMPD/stage v
	make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr >"$TMPD/install.log" 2>&1 ||
		fail "make install: $(tail -3 "$TMPD/install.log")"
	v=$("$d/usr/sbin/heaptrail" --version) || fail "installed heaptrail --version failed"
	[[ $v =~ ^heaptrail\ [0-9]+\.[0-9]+( \(git [0-9a-f]+\))?$ ]] || fail "version: $v"
	[ "$v" = "$("$HT" -V)" ] || fail "-V says $("$HT" -V), --version $v"
	[ "$(stat -c %a "$d/usr/sbin/heaptrail")" = 755 ] || fail "binary mode $(stat -c %a "$d/usr/sbin/heaptrail")"
	command -v man >/dev/null || skip "man not installed"
	MANWIDTH=80 man -l "$d/usr/share/man/man8/heaptrail.8" 2>/dev/null | grep -q '^HEAPTRAIL(8)' ||
		fail "man page does not render"
	cmp -s "$d/usr/share/heaptrail/report.schema.json" "$ROOT/user/report.schema.json" ||
		fail "schema not installed"
	# the completion offers the options --help lists, PIDs after -p
	v=$(PATH=$d/usr/sbin:$PATH bash -c '. "$1"; COMP_WORDS=(heaptrail --fa); COMP_CWORD=1
		_heaptrail; echo "${COMPREPLY[*]}"' _ "$d/usr/share/bash-completion/completions/heaptrail")
	[ "$v" = --faults ] || fail "completion of --fa: '$v'"
	v=$(PATH=$d/usr/sbin:$PATH bash -c '. "$1"; COMP_WORDS=(heaptrail -p "$2"); COMP_CWORD=2
		_heaptrail; echo "${COMPREPLY[*]}"' _ "$d/usr/share/bash-completion/completions/heaptrail" $$)
	[[ " $v " == *" $$ "* ]] || fail "completion of -p $$: '$v'"
	make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1 || fail "make uninstall"
	[ -z "$(find "$d" -type f)" ] || fail "left after uninstall: $(find "$d" -type f)"
}

# The subcommands speak alike: --help on stdout with exit 0 and a
# "Usage: heaptrail SUB" first line; a usage error is one line on stderr,
# "heaptrail: SUB: ... (see heaptrail SUB --help)", with exit 2.
test_docs_subcommand_help_style() {
	local sub rc
	for sub in diff symbolize; do
		"$HT" $sub --help >"$TMPD/out" 2>"$TMPD/err"
		rc=$?
		[ $rc = 0 ] || fail "$sub --help exited $rc"
		[ -s "$TMPD/err" ] && fail "$sub --help wrote to stderr: $(cat "$TMPD/err")"
		head -1 "$TMPD/out" | grep -q "^Usage: heaptrail $sub " ||
			fail "$sub --help: $(head -1 "$TMPD/out")"
		grep -q -- '--' "$TMPD/out" || fail "$sub --help lists no option"
		"$HT" $sub --bogus-option >"$TMPD/out" 2>"$TMPD/err" </dev/null
		rc=$?
		[ $rc = 2 ] || fail "$sub --bogus-option exited $rc"
		[ -s "$TMPD/out" ] && fail "$sub usage error on stdout: $(cat "$TMPD/out")"
		[ "$(wc -l <"$TMPD/err")" = 1 ] || fail "$sub: $(cat "$TMPD/err")"
		grep -qx "heaptrail: $sub: unknown option '--bogus-option' (see heaptrail $sub --help)" \
			"$TMPD/err" || fail "$sub: $(cat "$TMPD/err")"
	done
}
