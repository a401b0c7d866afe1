//! Output for scripts and people (issue 17): `get` and `plugins list` in JSON with typed
//! values, `list -o` columns, and the nearest property suggested for a mistyped one.

use ioc_tests::Sandbox;
use serde_json::{json, Value};

use crate::{assert_fails, seed};

fn json_of(s: &Sandbox, args: &[&str]) -> Value {
    let out = s.ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

#[test]
fn get_prints_typed_json() {
    let s = Sandbox::new();
    seed(&s);
    s.ok(["set", "priority=10", "boot=on", "user.owner=ops", "jail-a"]);
    let one = json_of(&s, &["get", "vnet", "jail-a", "--output-format", "json"]);
    assert_eq!(one, json!({"vnet": true}));
    let all = json_of(&s, &["get", "all", "jail-a", "--output-format", "json"]);
    assert_eq!(all["vnet"], json!(true));
    assert_eq!(all["boot"], json!(true));
    assert_eq!(all["priority"], json!(10));
    assert_eq!(all["interfaces"], json!(["vnet0:bridge0"]));
    assert_eq!(all["ip4_addr"], json!(["vnet0|10.23.42.2/24"]));
    assert_eq!(all["ip6_addr"], json!([]));
    assert_eq!(all["defaultrouter"], json!("10.23.42.1"));
    assert_eq!(all["defaultrouter6"], Value::Null);
    assert_eq!(all["user.owner"], json!("ops"));
    assert_eq!(
        all["vnet0_mac"],
        json!("02:ff:60:e7:93:9d,02:ff:60:e7:93:9e")
    );
    // Every key of the text output, and nothing else.
    let text = s.ok(["get", "all", "jail-a"]);
    assert_eq!(
        all.as_object().expect("an object").len(),
        text.lines().count()
    );
    let defaults = json_of(&s, &["get", "all", "defaults", "--output-format", "json"]);
    assert_eq!(defaults["vnet"], json!(true));
    // The text output is unchanged.
    assert_eq!(s.ok(["get", "priority", "jail-a"]), "10\n");
}

#[test]
fn plugins_list_prints_typed_json() {
    let s = Sandbox::new();
    let plugins = json_of(&s, &["plugins", "list", "--output-format", "json"]);
    let plugins = plugins.as_array().expect("an array");
    assert!(!plugins.is_empty());
    for p in plugins {
        assert!(p["name"].is_string(), "{p}");
        assert!(p["enabled"].is_boolean(), "{p}");
        assert!(p["active"].is_boolean(), "{p}");
    }
}

#[test]
fn list_columns_are_chosen_with_o() {
    let s = Sandbox::new();
    seed(&s);
    s.ok(["set", "priority=10", "user.owner=ops", "jail-a"]);
    let table = s.ok(["list", "-o", "name,priority,state,defaultrouter,user.owner"]);
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["NAME", "PRIORITY", "STATE", "DEFAULTROUTER", "USER.OWNER"],
            vec!["jail-a", "10", "down", "10.23.42.1", "ops"],
            vec!["jail-b", "99", "down", "10.23.42.1", "-"],
        ],
        "{table}"
    );
    let rows = json_of(
        &s,
        &[
            "list",
            "-o",
            "name,vnet,priority,vnet0_mac,user.owner",
            "--output-format",
            "json",
        ],
    );
    assert_eq!(
        rows[0],
        json!({
            "name": "jail-a",
            "vnet": true,
            "priority": 10,
            "vnet0_mac": "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e",
            "user.owner": "ops",
        })
    );
    assert_eq!(rows[1]["user.owner"], Value::Null);
    let csv = s.ok([
        "list",
        "-o",
        "name",
        "-o",
        "ip4_addr",
        "--output-format",
        "csv",
        "jail-b",
    ]);
    assert_eq!(csv, "name,ip4_addr\njail-b,vnet0|10.23.42.3/24\n");

    // An unknown column is a usage error naming it, what is valid, and the nearest name.
    let out = s.ioc(["list", "-o", "name,defaultroutr"]);
    assert_fails(&out, 2, "unknown column 'defaultroutr'");
    assert_fails(&out, 2, "did you mean 'defaultrouter'?");
    assert_fails(&out, 2, "jid, name, running, state");
    let out = s.ioc(["list", "-o", "bogus", "--output-format", "json"]);
    assert_fails(&out, 2, "unknown column 'bogus'");
    assert!(out.stdout.is_empty());
    // -o chooses the columns; -l cannot add to them.
    assert_eq!(s.ioc(["list", "-l", "-o", "name"]).status.code(), Some(2));
}

#[test]
fn unknown_properties_suggest_the_nearest_known_one() {
    let s = Sandbox::new();
    seed(&s);
    let out = s.ioc(["set", "defaultroutr=10.23.42.1", "jail-a"]);
    assert_fails(
        &out,
        1,
        "'defaultroutr' of jail 'jail-a' is unknown; did you mean 'defaultrouter'?",
    );
    let out = s.ioc(["get", "inetrfaces", "jail-a"]);
    assert_fails(&out, 1, "did you mean 'interfaces'?");
    let out = s.ioc(["create", "c", "ip4_adr=vnet0|10.0.0.1/24"]);
    assert_fails(&out, 1, "did you mean 'ip4_addr'?");
    let out = s.ioc(["list", "defaultroutr=x"]);
    assert_fails(&out, 1, "did you mean 'defaultrouter'?");
    // <nic>_mac keys: the nearest NIC of the jail's interfaces.
    let out = s.ioc(["get", "vnet_mac", "jail-a"]);
    assert_fails(&out, 1, "did you mean 'vnet0_mac'?");
    let out = s.ioc([
        "set",
        "vnet_mac=02:00:00:00:00:01,02:00:00:00:00:02",
        "jail-a",
    ]);
    assert_fails(&out, 1, "did you mean 'vnet0_mac'?");
    // Nothing close: no misleading hint.
    let out = s.ioc(["set", "completely_unrelated=1", "jail-a"]);
    assert_fails(&out, 1, "is unknown");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("did you mean"));
}
