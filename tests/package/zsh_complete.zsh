# Prints every match zsh's completion system offers for a command line, one
# per line: a real interactive zsh in a pseudo-terminal (zsh/zpty), compinit,
# the line typed, then TAB. compadd is wrapped to print what it adds.
#
#   zsh -f tests/package/zsh_complete.zsh FPATH_DIR 'bulwark audit --format '
#
# FPATH_DIR is put in front of the fpath ("" for zsh's default fpath only).
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'comppostfuncs=(_cap_end); _cap_end() { compstate[insert]=""; compstate[list]=""; print -- "<E""ND>" }'
# -O, -A and -D only collect matches into arrays: pass them through.
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __hits; builtin compadd -A __hits "$@"; print -l -- "<M>"${^__hits}; builtin compadd "$@" }'
zpty -w z "bindkey '^I' complete-word"
# Wait until the shell has run the setup before typing.
zpty -w z 'print "<RE""ADY>"'
local ready out
zpty -r z ready '*<READY>*'
zpty -w z "$2"$'\t'
zpty -r z out '*<END>*'
print -r -- "${out//$'\r'/}" | grep -a -o '<M>.*' | sed 's/^<M>//; s/\x1b\[[0-9;?]*[a-zA-Z]//g'
zpty -d z
