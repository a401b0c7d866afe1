//! Why a key of iocage or libioc has no ioc property: grouped by what the key is about, so the
//! line `ioc import` prints tells a user where that setting went (or that ioc has none).

/// FreeBSD jail parameters and iocage's start-up knobs, which ioc does not set.
const JAIL_PARAMS: &[&str] = &[
    "securelevel",
    "enforce_statfs",
    "children_max",
    "devfs_ruleset",
    "min_dyn_devfs_ruleset",
    "sysvmsg",
    "sysvsem",
    "sysvshm",
    "host_hostname",
    "host_domainname",
    "hostid",
    "hostid_strict_check",
    "host_time",
    "login_flags",
    "exec_fib",
    "exec_clean",
    "exec_timeout",
    "stop_timeout",
    "exec_jail_user",
    "exec_system_jail_user",
    "exec_system_user",
    "mount_devfs",
    "mount_fdescfs",
    "mount_procfs",
    "mount_linprocfs",
    "ip_hostname",
    "assign_localhost",
    "localhost_ip",
    "rtsold",
    "cpuset",
];

/// The jail's root file system, its release and its ZFS dataset.
const ROOT_AND_DATASET: &[&str] = &[
    "release",
    "cloned_release",
    "basejail",
    "basejail_type",
    "clonejail",
    "template",
    "origin",
    "type",
    "jail_zfs",
    "jail_zfs_dataset",
    "jail_zfs_mountpoint",
    "compression",
    "quota",
    "reservation",
    "dedup",
    "mountpoint",
    "compressratio",
    "available",
    "used",
    "count",
    "sync_state",
    "sync_target",
    "sync_tgt_zpool",
    "plugin_name",
    "plugin_repository",
];

/// What iocage and libioc record about a jail for themselves.
const BOOKKEEPING: &[&str] = &["last_started", "owner", "tags"];

/// iocage's resource limits (rctl).
const LIMITS: &[&str] = &[
    "rlimits",
    "memoryuse",
    "memorylocked",
    "vmemoryuse",
    "maxproc",
    "cputime",
    "pcpu",
    "datasize",
    "stacksize",
    "coredumpsize",
    "openfiles",
    "pseudoterminals",
    "swapuse",
    "nthr",
    "msgqqueued",
    "msgqsize",
    "nmsgq",
    "nsem",
    "nsemop",
    "nshm",
    "shmsize",
    "wallclock",
    "readbps",
    "writebps",
    "readiops",
    "writeiops",
];

/// Why `key` is not imported, for a key that no ioc property takes.
pub fn reason(key: &str) -> &'static str {
    let network = key == "vnet_default_interface"
        || key == "vnet_interfaces"
        || (key.starts_with("vnet") && key.ends_with("_mtu"));
    if network {
        return match key {
            "vnet_default_interface" => {
                "unknown to ioc: iocage adds this host uplink to the jail's bridge; with ioc the \
                 bridge is set up on the host"
            }
            "vnet_interfaces" => "unknown to ioc: ioc does not move host interfaces into a jail",
            _ => "unknown to ioc: ioc leaves the MTU of a jail's interfaces at the system's",
        };
    }
    if key.starts_with("allow_") || JAIL_PARAMS.contains(&key) {
        return "unknown to ioc: a FreeBSD jail parameter ioc does not set";
    }
    if ROOT_AND_DATASET.contains(&key) || key.starts_with("provision.") {
        return "unknown to ioc: ioc does not manage releases, templates or ZFS datasets (a jail \
                with its own root file system has path=DIR)";
    }
    if BOOKKEEPING.contains(&key) {
        return "unknown to ioc: iocage's own record of the jail (user.* properties hold such \
                notes in ioc)";
    }
    if LIMITS.contains(&key) {
        return "unknown to ioc: resource limits (rctl) are not managed by ioc";
    }
    "unknown to ioc"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert!(reason("allow_mount_zfs").contains("jail parameter"));
        assert!(reason("securelevel").contains("jail parameter"));
        assert!(reason("release").contains("releases"));
        assert!(reason("provision.method").contains("releases"));
        assert!(reason("memoryuse").contains("rctl"));
        assert!(reason("last_started").contains("own record"));
        assert!(reason("vnet2_mtu").contains("MTU"));
        assert!(reason("vnet_interfaces").contains("host interfaces"));
        assert_eq!(reason("frobnicate"), "unknown to ioc");
    }
}
