# bash completion for bulwark(1).
#
# Self-contained (works without the bash-completion package; with it, the
# file is loaded on demand from /usr/share/bash-completion/completions).
# Check ids come from the `bulwark checks` of the binary being completed, so
# they always match its catalogue. Handles `--opt value`, `--opt=value`,
# comma-separated id lists and `--output FORMAT=FILE`.

_bulwark_check_ids() {
    # First column of `bulwark checks`: the ids, one per line.
    "$1" checks 2>/dev/null | while IFS=$' \t' read -r id _; do
        [[ $id == *.* ]] && printf '%s\n' "$id"
    done
}

# Completes a comma-separated list: everything before the last comma is kept.
_bulwark_id_list() {
    local bin=$1 cur=$2 head= last=$2
    if [[ $cur == *,* ]]; then
        head=${cur%,*},
        last=${cur##*,}
    fi
    local ids domains
    ids=$(_bulwark_check_ids "$bin")
    domains=$(printf '%s\n' "$ids" | cut -d. -f1 | sort -u)
    local IFS=$'\n'
    COMPREPLY=($(compgen -P "$head" -W "$domains"$'\n'"$ids" -- "$last"))
}

_bulwark_files() {
    # $1: cur; further arguments: the suffixes a file must end with
    # (directories are always offered, to descend into them).
    local cur=$1 f s IFS=$'\n'
    shift
    COMPREPLY=()
    for f in $(compgen -f -- "$cur"); do
        if (($# == 0)) || [[ -d $f ]]; then
            COMPREPLY+=("$f")
            continue
        fi
        for s; do
            if [[ $f == *"$s" ]]; then
                COMPREPLY+=("$f")
                break
            fi
        done
    done
    compopt -o filenames 2>/dev/null
}

_bulwark() {
    local bin=${COMP_WORDS[0]} cword=$COMP_CWORD
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((cword > 0)) && prev=${COMP_WORDS[cword - 1]}
    local formats='text json sarif junit markdown html'
    local severities='critical high medium low info none'
    local profiles='baseline vpn-production lms-server'
    COMPREPLY=()

    # With '=' in COMP_WORDBREAKS (bash's default) `--format=js` arrives as
    # three words: --format, =, js; `--output sarif=f` as --output, sarif, =, f.
    local before=
    if [[ $cur == = ]]; then
        cur=
        before=${COMP_WORDS[cword - 2]}
    elif [[ $prev == = ]]; then
        prev=${COMP_WORDS[cword - 2]}
        ((cword >= 3)) && before=${COMP_WORDS[cword - 3]}
    fi
    # --output FORMAT=FILE: the file part.
    if [[ $before == --output && " $formats " == *" $prev "* ]]; then
        _bulwark_files "$cur"
        return
    fi

    # The subcommand is the first word that is not an option.
    local cmd= i
    for ((i = 1; i < cword; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W 'audit checks explain facts watch bans fim fix version' -- "$cur"))
        fi
        return
    fi

    case $prev in
        --root)
            local IFS=$'\n'
            COMPREPLY=($(compgen -d -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --profile)
            _bulwark_files "$cur" .yaml .yml
            COMPREPLY+=($(compgen -W "$profiles" -- "$cur"))
            return ;;
        --only | --skip)
            _bulwark_id_list "$bin" "$cur"
            return ;;
        --format)
            if [[ $cmd == checks ]]; then
                COMPREPLY=($(compgen -W 'text json' -- "$cur"))
            elif [[ $cmd == fim ]]; then
                COMPREPLY=($(compgen -W 'text json sarif' -- "$cur"))
            elif [[ $cmd == fix ]]; then
                COMPREPLY=($(compgen -W 'text json ansible' -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$formats" -- "$cur"))
            fi
            return ;;
        --output)
            _bulwark_files "$cur"
            local f
            for f in $formats; do
                [[ $f == "$cur"* ]] && COMPREPLY+=("$f=")
            done
            compopt -o nospace 2>/dev/null
            return ;;
        --fail-on)
            COMPREPLY=($(compgen -W "$severities" -- "$cur"))
            return ;;
        --waivers)
            _bulwark_files "$cur" .yaml .yml
            return ;;
        --baseline)
            _bulwark_files "$cur" .json
            return ;;
        --compose)
            _bulwark_files "$cur" .yaml .yml
            return ;;
        --env-file)
            _bulwark_files "$cur"
            return ;;
        --postgres-dsn | --docker | --reference-time | --rollback)
            return ;;
        --config)
            if [[ $cmd == fim ]]; then
                _bulwark_files "$cur"
            else
                _bulwark_files "$cur" .yaml .yml
            fi
            return ;;
        --aide-config | --db | --key | --pubkey | --metrics)
            _bulwark_files "$cur"
            return ;;
        --threads)
            return ;;
        --replay)
            _bulwark_files "$cur"
            return ;;
    esac

    local opts
    case $cmd in
        audit)
            opts='--root --profile --only --skip --format --output --fail-on
                  --waivers --baseline --fail-on-new --live --compose --env-file
                  --host-env --postgres-dsn --docker --perf --help' ;;
        checks) opts='--profile --format --help' ;;
        explain)
            if [[ $cur != -* ]]; then
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_bulwark_check_ids "$bin")" -- "$cur"))
                return
            fi
            opts='--help' ;;
        facts)
            if [[ $cur != -* ]]; then
                COMPREPLY=($(compgen -W 'ssh sysctl compose firewall fail2ban postgres redis tls vpn' -- "$cur"))
                return
            fi
            opts='--root --live --compose --env-file --host-env --postgres-dsn --docker --help' ;;
        watch)
            opts='--config --replay --check-config --dry-run --print-alert-rules
                  --metrics --quiet --from-start --allow-missing --reference-time --help' ;;
        bans)
            if [[ $cur != -* && $prev != list && $prev != remove ]]; then
                COMPREPLY=($(compgen -W 'list remove' -- "$cur"))
                return
            fi
            opts='--config --verbose --json --help' ;;
        fim)
            if [[ $cur != -* ]]; then
                local w seen=
                for w in "${COMP_WORDS[@]:1:cword-1}"; do
                    [[ $w == init || $w == check || $w == update ]] && seen=1
                done
                if [[ -z $seen ]]; then
                    COMPREPLY=($(compgen -W 'init check update' -- "$cur"))
                    return
                fi
            fi
            opts='--root --config --aide-config --db --key --pubkey --allow-unsigned
                  --fast --format --output --metrics --threads --help' ;;
        fix)
            opts='--root --profile --only --skip --format --apply --restart
                  --rollback --list --perf --help' ;;
        version) opts='--help' ;;
        *) return ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}

complete -F _bulwark bulwark
