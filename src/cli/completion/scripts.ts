// The shell scripts `berth completion bash|zsh` prints. They hold no word lists: each TAB asks
// `berth completion __complete SHELL WORDS…` (complete.ts), which reads the command specs and,
// for names, the daemon chosen by the same -H/BERTH_HOST/DOCKER_HOST as any berth command.

export function bashScript(prog: string): string {
  return `# bash completion for ${prog}                               -*- shell-script -*-
# Load it with:  source <(${prog} completion bash)
# or install it: ${prog} completion bash > /etc/bash_completion.d/${prog}

__${prog}_complete() {
    local cur words cword
    if [[ -n \${COMP_LINE-} ]] && declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        # keep image:tag and --flag=value as one word
        _get_comp_words_by_ref -n =: cur words cword
    else
        words=("\${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=\${COMP_WORDS[COMP_CWORD]}
    fi
    local out
    out=$(${prog} completion __complete bash "\${words[@]:1:cword}" 2>/dev/null) || return 0
    local IFS=$'\\n'
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
    if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
        __ltrim_colon_completions "$cur"
    fi
    return 0
}

complete -o default -F __${prog}_complete ${prog}
`;
}

export function zshScript(prog: string): string {
  return `#compdef ${prog}
# zsh completion for ${prog}
# Load it with:  source <(${prog} completion zsh)   (after compinit)
# or install it: ${prog} completion zsh > "\${fpath[1]}/_${prog}"

_${prog}() {
    local -a candidates
    local out
    out=$(${prog} completion __complete zsh "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    candidates=("\${(@f)out}")
    (( \${#candidates} )) && [[ -n \${candidates[1]} ]] || return 1
    _describe -t ${prog} '${prog}' candidates
}

if [[ "\${funcstack[1]}" == "_${prog}" ]]; then
    _${prog} "$@"
else
    compdef _${prog} ${prog}
fi
`;
}
