//! The command line itself: usage errors, a closed pipe, `help properties`, and the README's
//! property table generated from it.

use std::io::Read;
use std::process::Stdio;

use ioc_tests::Sandbox;

use crate::stderr;

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    for args in [
        vec!["set", "vnet=on"],
        vec!["create", "a", "vnet"],
        vec!["set", "=on", "a"],
        vec!["set", "vnet=on", "vnet=off", "a"],
        vec!["list", "--output-format", "xml"],
        vec!["bogus"],
        vec!["get", "vnet"],
        vec!["help", "bogus"],
        vec!["-q", "-v", "list"],
    ] {
        let output = s.ioc(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
}

#[test]
fn broken_pipe_is_not_a_panic() {
    let s = Sandbox::new();
    for n in 0..50 {
        s.ok(["create", &format!("jail-{n}")]);
    }
    let mut child = s
        .command()
        .args(["list", "-l"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn help_properties() {
    let s = Sandbox::new();
    let table = s.ok(["help", "properties"]);
    for name in [
        "vnet",
        "interfaces",
        "ip4_addr",
        "firewall",
        "network_plugin",
        "<nic>_mac",
        "user.*",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name} missing: {table}"
        );
    }
    assert!(s.ok(["help", "set"]).contains("TARGET"));
    assert!(s.ok(["help"]).contains("create"));
}

/// The README's property table is exactly what `ioc help properties --markdown` prints.
#[test]
fn readme_property_table_is_generated() {
    let s = Sandbox::new();
    let generated = s.ok(["help", "properties", "--markdown"]);
    let readme_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = "<!-- properties:start -->\n";
    let end = "<!-- properties:end -->";
    let from = readme.find(start).expect("README lacks the start marker") + start.len();
    let to = readme.find(end).expect("README lacks the end marker");
    assert_eq!(
        &readme[from..to],
        generated,
        "README.md is out of date: replace the table with `ioc help properties --markdown`"
    );
}

/// The visible subcommands, as `ioc help` lists them.
fn subcommands(s: &Sandbox) -> Vec<String> {
    let help = s.ok(["help"]);
    let listed = help
        .split("Commands:")
        .nth(1)
        .expect("`ioc help` lists its commands");
    listed
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Completions for bash, zsh and fish name every subcommand, generated from the clap
/// definition the program parses with.
#[test]
fn completions_name_every_subcommand() {
    let s = Sandbox::new();
    let commands = subcommands(&s);
    assert!(commands.len() > 10, "{commands:?}");
    for shell in ["bash", "zsh", "fish"] {
        let script = s.ok(["completions", shell]);
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: no {command}");
        }
    }
    assert!(!s.ioc(["completions", "tcsh"]).status.success());
}

/// `ioc man DIR` writes ioc(8), one page per subcommand and ioc-properties(5) naming every
/// property of `ioc help properties`.
#[test]
fn man_pages_cover_every_subcommand_and_property() {
    let s = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    s.ok(["man", dir.path().to_str().unwrap()]);
    let page = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert!(page("ioc.8").starts_with(".ie"), "not roff");
    let commands = subcommands(&s);
    assert!(commands.len() > 10, "{commands:?}");
    for command in commands {
        assert!(page(&format!("ioc-{command}.8")).contains(".SH NAME"));
    }
    let properties = page("ioc-properties.5");
    let table = s.ok(["help", "properties"]);
    for line in table.lines().skip(1) {
        let name = line.split_whitespace().next().unwrap();
        let name = name.replace('-', "\\-");
        assert!(properties.contains(&format!(".B {name}\n")), "no {name}");
    }
}
