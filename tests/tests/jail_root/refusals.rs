//! `path` and `mounts` refused before anything changes, with the jail, the property and what
//! was expected.

use std::os::unix::fs::PermissionsExt;

use crate::Rooted;

/// Asserts `ioc start web` fails naming the jail, `property` and `found`, and left nothing.
fn refused(t: &Rooted, property: &str, found: &str) {
    let err = t.host.fails(["start", "web"]);
    assert!(
        err.contains(&format!("jail 'web': property '{property}': expected ")),
        "{err}"
    );
    assert!(err.contains(found), "{err}");
    assert!(!t.host.running("web"));
    t.host.assert_clean(crate::IDLE);
}

#[test]
fn path_is_checked_at_start() {
    let Some(t) = Rooted::new() else { return };
    let missing = t.host.dir().join("missing");
    t.create("web", ":", 2, &[]);
    t.host
        .ok(["set", &format!("path={}", missing.display()), "web"]);
    refused(&t, "path", "No such file or directory");

    let file = t.host.dir().join("file");
    std::fs::write(&file, "").unwrap();
    t.host
        .ok(["set", &format!("path={}", file.display()), "web"]);
    refused(&t, "path", "is not a directory");

    std::fs::set_permissions(&t.root, std::fs::Permissions::from_mode(0o757)).unwrap();
    t.host.ok(["set", &format!("path={}", t.path()), "web"]);
    refused(&t, "path", "is writable by others");
    std::fs::set_permissions(&t.root, std::fs::Permissions::from_mode(0o755)).unwrap();

    std::os::unix::fs::chown(&t.root, Some(65534), None).unwrap();
    refused(&t, "path", "is owned by uid 65534");
    std::os::unix::fs::chown(&t.root, Some(0), None).unwrap();

    // The sandbox's directory holds ioc's run dir and configuration.
    t.host
        .ok(["set", &format!("path={}", t.host.dir().display()), "web"]);
    refused(&t, "path", "holds ioc's state");

    let err = t.host.fails(["set", "path=/", "web"]);
    assert!(err.contains("property 'path' of jail web"), "{err}");
    let err = t.host.fails(["set", "mounts=/srv:/data/../../etc", "web"]);
    assert!(err.contains("property 'mounts' of jail web"), "{err}");
    assert!(err.contains("'..'"), "{err}");

    t.host.ok(["set", &format!("path={}", t.path()), "web"]);
    t.host.ok(["start", "web"]);
    t.host.stop_and_check_clean("web", crate::IDLE);
}

#[test]
fn mounts_that_leave_the_root_through_a_symlink_are_refused() {
    let Some(t) = Rooted::new() else { return };
    std::os::unix::fs::symlink("/etc", t.root.join("escape")).unwrap();
    std::os::unix::fs::symlink("../../../../../..", t.root.join("up")).unwrap();
    std::fs::create_dir(t.root.join("data")).unwrap();
    std::os::unix::fs::symlink("/etc", t.root.join("data/inner")).unwrap();
    let source = t.host.dir().join("src");
    std::fs::create_dir(&source).unwrap();
    let source = source.to_str().unwrap();
    t.create("web", ":", 2, &[]);
    for target in ["/escape", "/up/etc", "/up/tmp", "/data/inner"] {
        t.host
            .ok(["set", &format!("mounts={source}:{target}"), "web"]);
        refused(&t, "mounts", "leaves the jail's root through a symlink");
    }
    t.host
        .ok(["set", &format!("mounts={source}:/missing"), "web"]);
    refused(&t, "mounts", "does not exist in the jail's root");
    // The host's /etc was never touched.
    assert!(std::path::Path::new("/etc/passwd").exists());
}

/// A root whose `/dev` the jail turned into a symlink to a host directory: the start fails
/// (and rolls back) instead of mounting over the host's directory.
#[test]
fn a_symlink_in_place_of_dev_is_not_followed() {
    let Some(t) = Rooted::new() else { return };
    let host_dir = t.host.dir().join("host-dev");
    std::fs::create_dir(&host_dir).unwrap();
    std::fs::write(host_dir.join("keep"), "host").unwrap();
    std::fs::remove_dir(t.root.join("dev")).unwrap();
    std::os::unix::fs::symlink(&host_dir, t.root.join("dev")).unwrap();
    t.create("web", ":", 2, &[]);
    let err = t.host.fails(["start", "web"]);
    assert!(err.contains("could not mount /dev for the jail"), "{err}");
    assert!(!t.host.running("web"));
    t.host.assert_clean(crate::IDLE);
    assert!(host_dir.join("keep").exists());
    assert_eq!(crate::inits(&t.host), Vec::<u32>::new());
}
