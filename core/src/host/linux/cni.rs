//! The Linux host's side of the CNI ops: `CNI_NETNS` is the path of the jail's pinned network
//! namespace (valid for the jail's whole life), reported addresses live in the journal, and
//! `SetJailDns` rewrites the jail's private resolv.conf.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use ioc_sdk::{HostError, HostErrorKind, HostOp, HostReply};

use super::jail::JailPaths;
use crate::host::exec::io_error;
use crate::step::JailParams;

/// The jail's network namespace pin; for a `DEL`, empty once the namespace is gone (an
/// unmounted pin is an empty file, not a namespace).
pub fn netns(run_dir: &Path, params: &JailParams, for_del: bool) -> String {
    let pin = JailPaths::new(run_dir, &params.name).pin("net");
    if for_del && !is_namespace(&pin) {
        return String::new();
    }
    pin.display().to_string()
}

fn is_namespace(path: &Path) -> bool {
    match (fs::metadata(path), fs::metadata("/proc/self/ns/net")) {
        (Ok(pin), Ok(nsfs)) => pin.dev() == nsfs.dev(),
        _ => false,
    }
}

/// `SetJailDns`: the jail's resolv.conf is a private file bind-mounted on its
/// `/etc/resolv.conf`, so it is rewritten in place (a new file would not be the mounted one).
/// A jail without one shares the host's file, which ioc never rewrites.
pub fn set_dns(run_dir: &Path, params: &JailParams, op: &HostOp) -> Result<HostReply, HostError> {
    let text = crate::cni::dns::resolv_conf(op).unwrap_or_default();
    if params.resolv_conf.is_none() {
        return Err(HostError::new(
            HostErrorKind::Unsupported,
            format!(
                "jail {}: has no resolv.conf of its own (resolver keeps the host's), so its DNS \
                 cannot be set; set resolver to its default",
                params.name
            ),
        ));
    }
    let path = JailPaths::new(run_dir, &params.name).resolv_conf();
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new().write(true).truncate(true).open(&path)?;
        file.write_all(text.as_bytes())
    };
    write()
        .map(|()| HostReply::Done)
        .map_err(|e| io_error(&format!("write {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use ioc_sdk::Ip;

    use super::*;

    fn dns() -> HostOp {
        HostOp::SetJailDns {
            nameservers: vec![Ip::from(Ipv4Addr::new(10, 22, 0, 1))].into(),
            domain: "".into(),
            search: Default::default(),
            options: Default::default(),
        }
    }

    #[test]
    fn the_private_resolv_conf_is_rewritten_in_place() {
        let run = tempfile::tempdir().unwrap();
        let mut params = JailParams::unknown("web");
        params.resolv_conf = Some("nameserver 192.0.2.1\n".into());
        let file = JailPaths::new(run.path(), "web").resolv_conf();
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "nameserver 192.0.2.1\nsearch old.example\n").unwrap();
        let inode = fs::metadata(&file).unwrap().ino();
        set_dns(run.path(), &params, &dns()).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "nameserver 10.22.0.1\n");
        // The same file: the one bind-mounted on the jail's /etc/resolv.conf.
        assert_eq!(fs::metadata(&file).unwrap().ino(), inode);
    }

    #[test]
    fn a_jail_sharing_the_hosts_resolv_conf_is_refused() {
        let run = tempfile::tempdir().unwrap();
        let params = JailParams::unknown("web");
        let err = set_dns(run.path(), &params, &dns()).unwrap_err();
        assert_eq!(err.kind, HostErrorKind::Unsupported);
        assert!(err.message.contains("jail web"), "{}", err.message);
    }
}
