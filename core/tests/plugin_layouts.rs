//! Remembered layout checks with a real plugin library: the first load checks and remembers,
//! the next (a new process would do the same) loads it on the remembered check and it works;
//! a copy of the library elsewhere is another file and is checked on its own.

mod firewall_support;

use ioc_core::plugins::checked::{CheckedLayouts, FileId, CHECKED_FILE};
use ioc_core::plugins::LoadedPlugin;

#[test]
fn a_remembered_check_loads_a_working_plugin_and_a_copy_is_checked_again() {
    let path = firewall_support::plugin_path("ioc_plugin_vnet");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CHECKED_FILE);
    let exe = FileId::of(&std::env::current_exe().unwrap());
    let mut layouts = CheckedLayouts::for_exe(file.clone(), exe.clone());
    let id = FileId::of(&path).unwrap();
    assert!(!layouts.passed(&path, &id));
    let first = LoadedPlugin::load_checked(&path, Some(&mut layouts)).unwrap();
    let mut again = CheckedLayouts::for_exe(file.clone(), exe.clone());
    assert!(again.passed(&path, &id), "the passed check is remembered");
    let second = LoadedPlugin::load_checked(&path, Some(&mut again)).unwrap();
    assert_eq!(
        (first.name.as_str(), second.name.as_str()),
        ("vnet", "vnet")
    );
    assert_eq!(first.kind, second.kind);
    let copy = dir.path().join("libioc_plugin_vnet.so");
    std::fs::copy(&path, &copy).unwrap();
    assert!(!again.passed(&copy, &FileId::of(&copy).unwrap()));
}
