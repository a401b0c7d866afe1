//! What a jail with its own root sees: only its processes, only its files, its own /proc, /dev
//! and /tmp; hooks and `ioc exec` run there; `mounts` bring host paths in.

use crate::Rooted;

#[test]
fn a_jail_with_a_root_sees_only_its_processes_and_files() {
    let Some(t) = Rooted::new() else { return };
    let marker = t.host.dir().join("host-marker");
    std::fs::write(&marker, "host").unwrap();
    t.create("web", ":", 2, &["exec_start=touch /tmp/started"]);
    t.host.ok(["start", "web"]);

    // ps: the init (PID 1) and ps itself, nothing of the host.
    let ps = t.host.exec_ok("web", &["ps"]);
    let rows: Vec<&str> = ps.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "ps in the jail: {ps}");
    assert!(
        rows[0].trim_start().starts_with("1 ") && rows[0].ends_with("ioc-init"),
        "{ps}"
    );
    assert!(rows[1].ends_with("ps"), "{ps}");

    // The host's files are out of reach; the root's are there.
    let marker = marker.to_str().unwrap();
    assert!(!t.host.exec("web", &["test", "-e", marker]).status.success());
    assert_eq!(
        t.sh("web", "cat /etc/hostname 2>/dev/null; hostname"),
        "web\n"
    );
    assert!(t.sh("web", "ls /bin").contains("busybox"));

    // Its own /proc (of its PID namespace), a minimal /dev, /sys read-only, /tmp a tmpfs.
    assert_eq!(t.sh("web", "cat /proc/1/comm"), "ioc-init\n");
    let pids = t.sh("web", "ls /proc | grep '^[0-9]'");
    assert!(pids.lines().count() <= 5, "pids in /proc: {pids}");
    let own = std::process::id().to_string();
    assert!(
        pids.lines()
            .all(|p| p.parse::<u32>().unwrap() < 100 && p != own),
        "{pids}"
    );
    let mounts = t.sh("web", "cat /proc/mounts");
    for (point, kind) in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/sys", "sysfs"),
        ("/tmp", "tmpfs"),
    ] {
        assert!(
            mounts
                .lines()
                .any(|l| l.split(' ').nth(1) == Some(point) && l.split(' ').nth(2) == Some(kind)),
            "{point} is no {kind}: {mounts}"
        );
    }
    assert!(
        mounts.lines().any(|l| l.contains(" /sys sysfs ro,")),
        "/sys is not read-only: {mounts}"
    );
    assert_eq!(
        t.sh(
            "web",
            "head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null"
        ),
        "4\nnull\n"
    );
    assert!(!t
        .host
        .exec("web", &["sh", "-c", "echo x > /sys/kernel/x"])
        .status
        .success());

    // exec_start ran inside: its file is in the jail's /tmp, not the host's.
    assert!(t
        .host
        .exec("web", &["test", "-e", "/tmp/started"])
        .status
        .success());
    assert!(!std::path::Path::new("/tmp/started").exists());
    t.host.stop_and_check_clean("web", crate::IDLE);
}

#[test]
fn mounts_bring_host_paths_into_the_root() {
    let Some(t) = Rooted::new() else { return };
    let data = t.host.dir().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("file"), "shared\n").unwrap();
    std::fs::create_dir_all(t.root.join("srv/ro")).unwrap();
    std::fs::create_dir_all(t.root.join("srv/rw")).unwrap();
    let data = data.to_str().unwrap();
    t.create(
        "web",
        ":",
        2,
        &[&format!("mounts={data}:/srv/ro:ro,{data}:/srv/rw")],
    );
    t.host.ok(["start", "web"]);
    assert_eq!(t.sh("web", "cat /srv/ro/file"), "shared\n");
    assert!(!t
        .host
        .exec("web", &["touch", "/srv/ro/new"])
        .status
        .success());
    t.sh("web", "echo written > /srv/rw/new");
    assert_eq!(
        std::fs::read_to_string(t.host.dir().join("data/new")).unwrap(),
        "written\n"
    );
    t.host.stop_and_check_clean("web", crate::IDLE);
}
