//! Completion of jail and property names in the scripts of `ioc completions`.
//!
//! clap_complete knows the commands and options, not the jails of this host nor the property
//! names. Each script gets a small wrapper that asks `ioc __complete at INDEX -- WORDS...` (see
//! [`super::complete`]) what fits where the cursor is; when ioc offers nothing there, the
//! generated completion runs as before.

use clap_complete::Shell;

/// bash: a wrapper around the generated `_ioc`, registered after it (the last `complete -F`
/// for a command wins). `KEY=` candidates get no space after them.
const BASH: &str = r#"
# Jail and property names, asked from ioc itself (ioc __complete).
_ioc_names() {
    local cur="${COMP_WORDS[COMP_CWORD]}" names
    names=$("${COMP_WORDS[0]}" __complete at "$COMP_CWORD" -- "${COMP_WORDS[@]}" 2>/dev/null)
    if [[ -n "$names" ]]; then
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
        if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
            compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    _ioc "$@"
}
complete -F _ioc_names -o bashdefault -o default ioc
"#;

/// zsh: the wrapper; the generated script's last lines (which register `_ioc`) are replaced
/// by the same lines registering the wrapper.
const ZSH: &str = r#"
# Jail and property names, asked from ioc itself (ioc __complete).
_ioc_names() {
    local -a names
    names=(${(f)"$(${words[1]} __complete at $((CURRENT - 1)) -- "${words[@]}" 2>/dev/null)"})
    if (( ${#names} )); then
        compadd -a names
    else
        _ioc "$@"
    fi
}

if [ "$funcstack[1]" = "_ioc" ]; then
    compdef _ioc_names ioc
    _ioc_names "$@"
else
    compdef _ioc_names ioc
fi
"#;

/// The end of clap_complete's zsh script, which [`ZSH`] replaces.
const ZSH_TAIL: &str = r#"if [ "$funcstack[1]" = "_ioc" ]; then
    _ioc "$@"
else
    compdef _ioc ioc
fi
"#;

/// fish: candidates add up, and ioc prints none where it has nothing to offer.
const FISH: &str = r#"
# Jail and property names, asked from ioc itself (ioc __complete).
function __ioc_names
    set -l words (commandline -opc)
    ioc __complete at (count $words) -- $words (commandline -ct) 2>/dev/null
end
complete -c ioc -f -a '(__ioc_names)'
"#;

/// The generated `script` for `shell` with name completion added (bash, zsh and fish; the
/// other shells' scripts are returned as they are).
pub fn with_names(shell: Shell, script: String) -> String {
    let script = without_internal_commands(&script);
    match shell {
        Shell::Bash => script + BASH,
        Shell::Fish => script + FISH,
        Shell::Zsh => match script.rfind(ZSH_TAIL) {
            Some(at) => format!("{}{}", &script[..at], ZSH.trim_start()),
            None => script + ZSH,
        },
        _ => script,
    }
}

/// The commands ioc runs itself (hidden from help and man pages), which clap_complete still
/// offers: `ioc <TAB>` should not suggest them.
const INTERNAL_COMMANDS: [&str; 2] = ["__learn", "__complete"];

/// `script` without the internal commands among the offered words: bash's `opts="..."` word
/// lists, zsh's `'NAME:description'` entries and fish's `-a "NAME"` lines. Their own
/// (unreachable) completion branches stay; only the offers go.
fn without_internal_commands(script: &str) -> String {
    let mut kept = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let offers_internal = INTERNAL_COMMANDS.iter().any(|name| {
            trimmed.starts_with(&format!("'{name}:")) || line.contains(&format!("-a \"{name}\""))
        });
        if offers_internal {
            continue;
        }
        if trimmed.starts_with("opts=\"") {
            let mut line = line.to_string();
            for name in INTERNAL_COMMANDS {
                line = line.replace(&format!(" {name} "), " ");
            }
            kept.push_str(&line);
        } else {
            kept.push_str(line);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_commands_are_not_offered() {
        let bash = "opts=\"-v create __learn __complete check\"\n";
        assert_eq!(
            without_internal_commands(bash),
            "opts=\"-v create check\"\n"
        );
        let zsh = "'create:Create' \\\n'__learn:The learner' \\\n'check:Check' \\\n";
        assert_eq!(
            without_internal_commands(zsh),
            "'create:Create' \\\n'check:Check' \\\n"
        );
        let fish =
            "complete -c ioc -f -a \"create\"\ncomplete -c ioc -f -a \"__complete\" -d 'x'\n";
        assert_eq!(
            without_internal_commands(fish),
            "complete -c ioc -f -a \"create\"\n"
        );
    }
}
