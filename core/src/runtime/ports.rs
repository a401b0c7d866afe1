//! Host ports forwarded to NAT jails, claimed in the run dir like static addresses: one file
//! per protocol and port (`ports/tcp-8080`, holding the owner's name), written with the jail's
//! JID under the global lock. A start checks its own forwards' files and nothing else, so its
//! cost does not grow with the number of jails; two starts at the same moment cannot both
//! claim a port, and a claim lives exactly as long as its jail's runtime state (a failed
//! start's release and a stop remove it; after a crash the jail's state is incomplete, it
//! keeps its forwards until the next command cleans it up, and a claim whose jail has no
//! runtime state at all is stale and taken over).

use std::fmt;

/// One host port a jail forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostPort {
    /// UDP, else TCP.
    pub udp: bool,
    pub port: u16,
}

impl HostPort {
    /// Every port of `count` ports from `first` (a forwarded range).
    pub fn range(udp: bool, first: u16, count: u16) -> impl Iterator<Item = HostPort> {
        let last = first.saturating_add(count.saturating_sub(1));
        (first..=last).map(move |port| HostPort { udp, port })
    }

    /// The host ports a jail's network forwards (none without NAT).
    pub fn of_network(network: &ioc_sdk::Network) -> Vec<HostPort> {
        let Some(nat) = network.nat() else {
            return Vec::new();
        };
        nat.forwards()
            .iter()
            .flat_map(|f| HostPort::range(f.proto == ioc_sdk::Protocol::Udp, f.host_port, f.count))
            .collect()
    }

    /// The claim's file name, `tcp-8080`.
    pub(super) fn key(self) -> String {
        format!("{}-{}", self.proto(), self.port)
    }

    fn proto(self) -> &'static str {
        if self.udp {
            "udp"
        } else {
            "tcp"
        }
    }

    /// The refusal of a port `owner` forwards already, worded like the configuration check
    /// (`jail` is the jail refused).
    pub fn taken_by(self, owner: &str) -> String {
        format!(
            "property 'nat_forwards': forwards host port {self}, which jail '{owner}' forwards \
             already; expected a host port no other NAT jail uses"
        )
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.proto(), self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::super::RunDir;
    use super::HostPort;

    fn tcp(port: u16) -> HostPort {
        HostPort { udp: false, port }
    }

    #[test]
    fn ports_are_claimed_once_and_released_with_the_jail() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        let web: Vec<HostPort> = HostPort::range(false, 8080, 3).collect();
        run.allocate_with_ports("web", &[], &web).unwrap();
        assert_eq!(run.port_owner(tcp(8081)).as_deref(), Some("web"));
        assert_eq!(
            run.port_owner(HostPort {
                udp: true,
                port: 8081
            }),
            None
        );
        let err = run
            .allocate_with_ports("api", &[], &[tcp(9000), tcp(8082)])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("forwards host port tcp 8082, which jail 'web' forwards already"),
            "{err}"
        );
        assert!(!run.jail_dir("api").exists(), "a refusal leaves nothing");
        assert_eq!(run.port_owner(tcp(9000)), None);
        run.release("web").unwrap();
        assert_eq!(run.port_owner(tcp(8080)), None);
        run.allocate_with_ports("api", &[], &[tcp(8082)]).unwrap();
        assert_eq!(run.port_owner(tcp(8082)).as_deref(), Some("api"));
    }

    /// A claim left by a jail whose runtime state is gone (a crash between removing the state
    /// and the claim) is stale: the next start takes it over.
    #[test]
    fn a_claim_without_its_jail_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        run.allocate_with_ports("web", &[], &[tcp(80)]).unwrap();
        std::fs::remove_dir_all(run.jail_dir("web")).unwrap();
        assert_eq!(run.port_owner(tcp(80)), None);
        run.allocate_with_ports("api", &[], &[tcp(80)]).unwrap();
        assert_eq!(run.port_owner(tcp(80)).as_deref(), Some("api"));
    }

    #[test]
    fn concurrent_claims_of_one_port_have_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    RunDir::new(path)
                        .allocate_with_ports(&format!("j{i}"), &[], &[tcp(443)])
                        .is_ok()
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(won, 1);
    }
}
