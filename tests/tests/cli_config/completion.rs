//! Completion of jail and property names: `ioc __complete` and the scripts of
//! `ioc completions` that call it; with bash present, its completion function driven as bash
//! drives it on TAB.

use std::process::Command;

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
        bash_complete(&s, &script, "ioc get defaultrout"),
        ["defaultrouter", "defaultrouter6"]
    );
    assert_eq!(bash_complete(&s, &script, "ioc set vne"), ["vnet="]);
    // Elsewhere the generated completion runs: commands and options.
    assert_eq!(bash_complete(&s, &script, "ioc resta"), ["restart"]);
    assert_eq!(bash_complete(&s, &script, "ioc start --jo"), ["--jobs"]);
}
