//! The state on disk: concurrent sets lose nothing, rename and destroy, and damaged files
//! are clear errors.

use std::process::{Child, Stdio};

use ioc_tests::Sandbox;

use crate::{assert_fails, get_all, stderr};

#[test]
fn concurrent_sets_lose_no_update() {
    let s = Sandbox::new();
    s.ok(["create", "jail-a"]);
    let spawn = |args: Vec<String>| -> Child {
        s.command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let writers: Vec<Child> = (0..16)
        .map(|n| {
            spawn(vec![
                "set".into(),
                format!("user.k{n}=v{n}"),
                "jail-a".into(),
            ])
        })
        .collect();
    // Readers racing the writers must always see a complete file.
    let readers: Vec<Child> = (0..8)
        .map(|_| spawn(vec!["get".into(), "all".into(), "jail-a".into()]))
        .collect();
    for child in writers.into_iter().chain(readers) {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let all = get_all(&s, "jail-a");
    for n in 0..16 {
        assert_eq!(
            all.get(&format!("user.k{n}")).map(String::as_str),
            Some(format!("v{n}").as_str())
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(s.root().join("jails/jail-a"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["config.ron"]);
}

#[test]
fn rename_and_destroy() {
    let s = Sandbox::new();
    s.ok(["create", "a", "interfaces=vnet0:bridge0"]);
    s.ok(["create", "b"]);
    s.ok(["rename", "a", "c"]);
    assert_eq!(
        s.ok(["list", "--output-format", "csv"]),
        "jid,name,running,ip4_addr\n-,b,no,none\n-,c,no,none\n"
    );
    // Generated MACs follow the name.
    assert_eq!(s.ok(["get", "interfaces", "c"]), "vnet0:bridge0\n");
    assert_fails(&s.ioc(["rename", "c", "b"]), 1, "Jail 'b' already exists");
    assert_fails(&s.ioc(["rename", "zz", "y"]), 1, "Jail 'zz' does not exist");
    assert_fails(&s.ioc(["create", "b"]), 1, "Jail 'b' already exists");

    s.mark_running("c", 3);
    assert_fails(
        &s.ioc(["rename", "c", "d"]),
        1,
        "Jail 'c' is running (JID 3)",
    );
    assert_fails(&s.ioc(["destroy", "c"]), 1, "Jail 'c' is running (JID 3)");
    assert_fails(&s.ioc(["destroy", "*"]), 1, "Jail 'c' is running");
    assert!(s.config_file("c").exists() && s.config_file("b").exists());
    // -f stops the jail first. Stopping needs root; without it nothing is destroyed.
    let forced = s.ioc(["destroy", "-f", "c"]);
    if nix::unistd::geteuid().is_root() {
        assert!(
            forced.status.success(),
            "{}",
            String::from_utf8_lossy(&forced.stderr)
        );
        assert!(!s.config_file("c").exists());
        assert!(!s.run_dir().join("jails/c").exists());
    } else {
        assert_fails(&forced, 1, "needs root");
        std::fs::remove_dir_all(s.run_dir()).unwrap();
        s.ok(["destroy", "c"]);
    }
    s.ok(["destroy", "-f", "b"]);
    assert_eq!(s.ok(["list"]), "JID  NAME  RUNNING  IP4_ADDR\n");
    let leftovers: Vec<_> = std::fs::read_dir(s.root().join("jails")).unwrap().collect();
    assert!(leftovers.is_empty());
}

#[test]
fn corrupted_files_are_clear_errors() {
    let s = Sandbox::new();
    s.ok(["create", "a"]);
    s.ok(["create", "b"]);
    let config = s.config_file("a");
    for garbage in [
        "",
        "(properties: {\"vnet\": \"sometimes\"})",
        "((((",
        "\u{feff}\0\0",
        "(properties: {\"firewall\": \"pf\"})",
    ] {
        std::fs::write(&config, garbage).unwrap();
        let output = s.ioc(["get", "all", "a"]);
        assert_fails(&output, 1, &config.display().to_string());
        assert_fails(&s.ioc(["list"]), 1, "Cannot use");
        // Plain names keep working for the other jails, and a damaged jail can be destroyed.
        s.ok(["get", "vnet", "b"]);
    }
    std::fs::write(s.root().join("defaults.ron"), "nonsense").unwrap();
    assert_fails(&s.ioc(["get", "vnet", "b"]), 1, "defaults.ron");
    std::fs::remove_file(s.root().join("defaults.ron")).unwrap();
    s.ok(["destroy", "a"]);
}
