//! Completion of jail and property names: `ioc __complete` and the scripts of
//! `ioc completions` that call it, driven in bash (its completion function with COMP_WORDS),
//! zsh (TAB typed into an interactive zsh) and fish (`complete -C`).

use std::process::Command;

use ioc_tests::skip::skip_unless_ci;
use ioc_tests::Sandbox;

use crate::seed;

#[test]
fn the_hidden_command_prints_names() {
    let s = Sandbox::new();
    seed(&s);
    assert_eq!(s.ok(["__complete", "jails"]), "jail-a\njail-b\n");
    let properties = s.ok(["__complete", "properties"]);
    for p in [
        "vnet",
        "interfaces",
        "ip4_addr",
        "defaultrouter",
        "priority",
    ] {
        assert!(properties.lines().any(|l| l == p), "{p}: {properties}");
    }
    let commands = s.ok(["__complete", "commands"]);
    assert!(commands.lines().any(|l| l == "start"), "{commands}");
    assert!(
        !commands.contains("__"),
        "hidden commands are not offered: {commands}"
    );
    // What fits where: jails after start, keys then targets for get, nothing for options.
    let at = |index: &str, words: &[&str]| {
        let mut args = vec!["__complete", "at", index, "--"];
        args.extend_from_slice(words);
        s.ok(args)
    };
    assert_eq!(at("2", &["ioc", "start", ""]), "jail-a\njail-b\n");
    assert!(at("2", &["ioc", "get", "v"]).lines().any(|l| l == "vnet"));
    assert_eq!(
        at("3", &["ioc", "get", "vnet", ""]),
        "jail-a\njail-b\ndefaults\n"
    );
    assert_eq!(at("2", &["ioc", "start", "--jo"]), "");
    assert_eq!(at("1", &["ioc", "st"]), "");
    // Another root named on the line: its jails.
    let other = Sandbox::new();
    other.ok(["create", "elsewhere"]);
    let root = other.root();
    let root = root.to_str().expect("UTF-8 path");
    assert_eq!(at("4", &["ioc", "--root", root, "stop", ""]), "elsewhere\n");
}

#[test]
fn the_scripts_ask_ioc_for_names() {
    let s = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = s.ok(["completions", shell]);
        assert!(script.contains("__complete at"), "{shell}: {script}");
    }
    let zsh = s.ok(["completions", "zsh"]);
    assert!(zsh.contains("compdef _ioc_names ioc"), "{zsh}");
    assert!(!zsh.contains("compdef _ioc ioc"), "{zsh}");
}

/// Runs bash's completion of `line` (the cursor at its end) and returns the offers.
fn bash_complete(s: &Sandbox, script: &std::path::Path, line: &str) -> Vec<String> {
    let ioc_dir = ioc_tests::ioc_bin()
        .parent()
        .expect("ioc's directory")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        ioc_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let program = format!(
        r#"source {script}
read -ra COMP_WORDS <<< "$LINE"
[[ "$LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="$LINE"; COMP_POINT=${{#LINE}}
_ioc_names ioc "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script = script.display()
    );
    let mut command = Command::new("bash");
    s.set_env(&mut command);
    let out = command
        .args(["--norc", "-c", &program])
        .env("PATH", path)
        .env("LINE", line)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_jail_and_property_names() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash");
        return;
    }
    let s = Sandbox::new();
    seed(&s);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = dir.path().join("ioc.bash");
    std::fs::write(&script, s.ok(["completions", "bash"])).expect("write the script");
    assert_eq!(
        bash_complete(&s, &script, "ioc start jail-"),
        ["jail-a", "jail-b"]
    );
    assert_eq!(bash_complete(&s, &script, "ioc stop -f jail-b"), ["jail-b"]);
    assert_eq!(
        bash_complete(&s, &script, "ioc start jail-b,"),
        ["jail-b,jail-a"]
    );
    assert_eq!(
        bash_complete(&s, &script, "ioc get defaultrout"),
        ["defaultrouter", "defaultrouter6"]
    );
    assert_eq!(bash_complete(&s, &script, "ioc set vne"), ["vnet="]);
    // Elsewhere the generated completion runs: commands and options.
    assert_eq!(bash_complete(&s, &script, "ioc resta"), ["restart"]);
    assert_eq!(bash_complete(&s, &script, "ioc start --jo"), ["--jobs"]);
    // The commands ioc runs itself are not offered.
    assert_eq!(bash_complete(&s, &script, "ioc _"), Vec::<String>::new());
}

/// Whether `shell` runs here; if not, the test skips (and fails under `CI=true`).
fn missing(shell: &str) -> bool {
    let runs = Command::new(shell)
        .args(["-c", "exit 0"])
        .output()
        .is_ok_and(|o| o.status.success());
    skip_unless_ci((!runs).then(|| format!("needs {shell}")))
}

/// The directory of the `ioc` under test, for the shells' PATH.
fn path_with_ioc() -> String {
    let bin = ioc_tests::ioc_bin();
    let dir = bin.parent().expect("ioc's directory");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Types `line` and TAB into an interactive zsh (a pseudo-terminal from zsh's own `zpty`)
/// with the completion script loaded, and returns the command line completion left.
fn zsh_complete(s: &Sandbox, script: &std::path::Path, line: &str) -> String {
    const DRIVER: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; autoload -U compinit; compinit -u; source ${(q)SCRIPT}"
zpty -w -n z "$LINE"$'\t'
zpty -w -n z $' \x01echo RESULT: \x05\n'
local all=""
while [[ "${all//$'\r'/}" != *$'\n'RESULT:*$'\n'* ]] && zpty -r z chunk; do all+=$chunk; done
print -r -- "${all//$'\r'/}" | grep -a '^RESULT:'
zpty -d z
"#;
    let mut command = Command::new("timeout");
    s.set_env(&mut command);
    let out = command
        .args(["60", "zsh", "-f", "-c", DRIVER])
        .env("PATH", path_with_ioc())
        .env("SCRIPT", script)
        .env("LINE", line)
        .output()
        .expect("zsh runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("RESULT: "))
        .unwrap_or_else(|| panic!("zsh completed nothing for {line:?}: {out:?}"))
        .trim_end()
        .to_string()
}

#[test]
fn zsh_completes_jail_and_property_names() {
    if missing("zsh") {
        return;
    }
    let s = Sandbox::new();
    seed(&s);
    s.ok(["create", "web1"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = dir.path().join("_ioc");
    std::fs::write(&script, s.ok(["completions", "zsh"])).expect("write the script");
    assert_eq!(zsh_complete(&s, &script, "ioc start w"), "ioc start web1");
    assert_eq!(
        zsh_complete(&s, &script, "ioc get inter"),
        "ioc get interfaces"
    );
    // Commands still come from the generated completion.
    assert_eq!(zsh_complete(&s, &script, "ioc resta"), "ioc restart");
}

#[test]
fn fish_completes_jail_and_property_names() {
    if missing("fish") {
        return;
    }
    let s = Sandbox::new();
    seed(&s);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = dir.path().join("ioc.fish");
    std::fs::write(&script, s.ok(["completions", "fish"])).expect("write the script");
    let complete = |line: &str| -> Vec<String> {
        let mut command = Command::new("fish");
        s.set_env(&mut command);
        let program = "source $SCRIPT; complete -C $LINE";
        let out = command
            .args(["--no-config", "-c", program])
            .env("PATH", path_with_ioc())
            .env("SCRIPT", &script)
            .env("LINE", line)
            .output()
            .expect("fish runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(complete("ioc stop jail-"), ["jail-a", "jail-b"]);
    assert_eq!(complete("ioc get vnet "), ["defaults", "jail-a", "jail-b"]);
    assert_eq!(
        complete("ioc get defaultr"),
        ["defaultrouter", "defaultrouter6"]
    );
    assert_eq!(complete("ioc resta"), ["restart"]);
}
