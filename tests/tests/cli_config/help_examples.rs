//! Every command's help ends with examples of its use, `ioc --help` too.

use ioc_tests::Sandbox;

/// Asserts that the help of `ioc ARGS... --help` has an Examples section using `usage`.
fn assert_examples(s: &Sandbox, args: &[&str], usage: &str) {
    let mut full = args.to_vec();
    full.push("--help");
    let help = s.ok(&full);
    let (_, examples) = help
        .split_once("\nExamples:\n")
        .unwrap_or_else(|| panic!("ioc {args:?} --help shows no examples:\n{help}"));
    assert!(
        examples.lines().any(|l| l.trim_start().starts_with(usage)),
        "ioc {args:?} --help: no example starting with {usage:?}:\n{examples}"
    );
}

#[test]
fn every_command_shows_an_example() {
    let s = Sandbox::new();
    assert_examples(&s, &[], "ioc ");
    let commands = s.ok(["__complete", "commands"]);
    let commands: Vec<&str> = commands.lines().collect();
    assert!(
        commands.len() >= 15 && commands.contains(&"start"),
        "{commands:?}"
    );
    for command in commands {
        assert_examples(&s, &[command], &format!("ioc {command}"));
    }
    for sub in ["list", "enable", "disable", "check"] {
        assert_examples(&s, &["plugins", sub], &format!("ioc plugins {sub}"));
    }
    // -h shows them too, and `ioc help COMMAND`.
    assert!(s.ok(["start", "-h"]).contains("Examples:\n  ioc start"));
    assert!(s.ok(["help", "get"]).contains("Examples:\n  ioc get"));
}
