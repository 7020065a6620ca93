# SPDX-License-Identifier: GPL-2.0
# bash completion for heaptrail
_heaptrail()
{
	local cur prev opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	opts=$(heaptrail --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" -- "$cur"))
		return ;;
	-f | --folded | --pprof | --btf | --libc)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--debug-dir | --cgroup)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--unwind)
		COMPREPLY=($(compgen -W "fp dwarf auto" -- "$cur"))
		return ;;
	-i | --interval | -d | --duration | -n | --top | --keep | --sample | \
	--min-age | --max-allocs | --max-stacks | --max-mappings | --alloc-syms)
		return ;;
	esac
	if [ "$COMP_CWORD" = 1 ] && [[ $cur != -* ]]; then
		COMPREPLY=($(compgen -W "diff symbolize" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _heaptrail heaptrail
