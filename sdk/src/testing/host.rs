//! [`RecordingHost`]: a host that performs nothing, records every request and answers queries
//! from what the test declared.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use crate::host::{Host, HostHandle};
use crate::ops::{CommandOutput, HostError, HostErrorKind, HostOp, HostReply, Side};
use crate::types::Cidr;

/// The MTU [`RecordingHost::with_bridge`] gives a bridge, the usual Ethernet MTU.
pub const DEFAULT_MTU: u32 = 1500;

/// Which phase of a start the host stands in for; it decides whether changes are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// `setup` and the other hooks: every request is recorded and succeeds.
    Changing,
    /// `validate`: queries are answered, any change is refused as ioc refuses it.
    Validating,
}

/// The closure behind a recorder's [`Host`]: it hands each op to the shared [`State`].
type Perform = dyn FnMut(&HostOp) -> Result<HostReply, HostError>;

/// A request the test wants to fail, and the error it fails with.
struct Failure {
    matches: Box<dyn Fn(&HostOp) -> bool>,
    error: HostError,
}

/// What the host knows and what it was asked; shared between the [`RecordingHost`] and the
/// closure its [`Host`] calls.
struct State {
    phase: Phase,
    /// Interfaces by side and name, with their MTU (`None`: exists, MTU unknown).
    links: HashMap<(Side, String), Option<u32>>,
    sysctls: BTreeMap<String, String>,
    /// Host addresses as `iface|cidr`, which `add-host-alias` reports as already present.
    host_addresses: BTreeSet<String>,
    /// Answers by op name that replace the built-in ones.
    replies: BTreeMap<&'static str, HostReply>,
    failures: Vec<Failure>,
    ops: Vec<HostOp>,
}

/// A [`Host`] for unit tests: records every [`HostOp`] a plugin sends, in order, and answers
/// queries from links, sysctls and addresses the test declares, so a hook runs in-process
/// without root and without touching the system.
///
/// Defaults, chosen so a test states only what matters:
/// - `link-exists` / `link-mtu`: only links declared with [`with_link`](Self::with_link) or
///   [`with_bridge`](Self::with_bridge), or created by the plugin itself (pairs, bridges, moves
///   and renames are tracked), exist;
/// - `read-sysctl`: declared sysctls; any other fails with [`HostErrorKind::NotFound`], as the
///   kernel does for an unknown name;
/// - `add-host-alias`: `true` (ioc added it) unless declared with
///   [`with_host_address`](Self::with_host_address);
/// - `run-command`: exit status 0 with empty output; everything else: [`HostReply::Done`].
///
/// [`with_reply`](Self::with_reply) replaces the answer for any op by name (including queries
/// added to the SDK later) and [`fail_on`](Self::fail_on) / [`fail_when`](Self::fail_when)
/// make requests fail, to test a plugin's error path.
///
/// ```
/// use ioc_sdk::testing::RecordingHost;
/// use ioc_sdk::HostErrorKind;
///
/// let mut host = RecordingHost::new()
///     .with_bridge("bridge0")
///     .fail_on("start-dhcp", HostErrorKind::Other, "no DHCP client");
/// let mut h = host.host();
/// assert_eq!(h.link_mtu("bridge0").unwrap(), Some(1500));
/// h.loopback_up().unwrap();
/// assert!(h.start_dhcp("vnet0").is_err());
/// assert_eq!(host.names(), ["link-mtu", "loopback-up", "start-dhcp"]);
/// assert_eq!(host.changes().len(), 2);
/// ```
pub struct RecordingHost {
    state: Rc<RefCell<State>>,
    perform: Box<Perform>,
}

impl Default for RecordingHost {
    fn default() -> Self {
        RecordingHost::new()
    }
}

impl RecordingHost {
    /// A host for `setup` and the other hooks that build: every request succeeds.
    pub fn new() -> RecordingHost {
        RecordingHost::with_phase(Phase::Changing)
    }

    /// A host for `validate`: it answers queries and refuses every change with
    /// [`HostErrorKind::Unsupported`] and "`<op>` is not allowed while validating", exactly as
    /// ioc does, so a test can check that validation changes nothing (see
    /// [`changes`](Self::changes)).
    pub fn validating() -> RecordingHost {
        RecordingHost::with_phase(Phase::Validating)
    }

    fn with_phase(phase: Phase) -> RecordingHost {
        let state = Rc::new(RefCell::new(State {
            phase,
            links: HashMap::new(),
            sysctls: BTreeMap::new(),
            host_addresses: BTreeSet::new(),
            replies: BTreeMap::new(),
            failures: Vec::new(),
            ops: Vec::new(),
        }));
        let shared = Rc::clone(&state);
        RecordingHost {
            state,
            perform: Box::new(move |op| shared.borrow_mut().perform(op)),
        }
    }

    /// Declares an interface on one side with its MTU, so `link_exists` and `link_mtu` find it.
    pub fn with_link(self, side: Side, name: &str, mtu: u32) -> RecordingHost {
        self.state
            .borrow_mut()
            .links
            .insert((side, name.to_string()), Some(mtu));
        self
    }

    /// Declares a host bridge with the [`DEFAULT_MTU`]; the usual precondition of a VNET mode.
    pub fn with_bridge(self, name: &str) -> RecordingHost {
        self.with_link(Side::Host, name, DEFAULT_MTU)
    }

    /// Sets the value `read_sysctl(name)` returns.
    pub fn with_sysctl(self, name: &str, value: &str) -> RecordingHost {
        self.state
            .borrow_mut()
            .sysctls
            .insert(name.to_string(), value.to_string());
        self
    }

    /// Declares an address the host interface already has: `add_host_alias` then answers
    /// `false`, as ioc does for an address it must leave in place on stop.
    pub fn with_host_address(self, iface: &str, address: Cidr) -> RecordingHost {
        self.state
            .borrow_mut()
            .host_addresses
            .insert(alias_key(iface, &address));
        self
    }

    /// Answers every op named `op` (as [`HostOp::name`] spells it) with `reply` instead of the
    /// default; for example a `run-command` output, or a query the kit does not know.
    pub fn with_reply(self, op: &'static str, reply: HostReply) -> RecordingHost {
        self.state.borrow_mut().replies.insert(op, reply);
        self
    }

    /// Makes every op named `op` fail with an error of `kind` carrying `message`.
    pub fn fail_on(self, op: &'static str, kind: HostErrorKind, message: &str) -> RecordingHost {
        self.fail_when(move |o| o.name() == op, HostError::new(kind, message))
    }

    /// Makes every op for which `matches` is true fail with `error`, e.g. only the second NIC's
    /// `create-pair`. Failed ops are still recorded.
    pub fn fail_when(
        self,
        matches: impl Fn(&HostOp) -> bool + 'static,
        error: HostError,
    ) -> RecordingHost {
        self.state.borrow_mut().failures.push(Failure {
            matches: Box::new(matches),
            error,
        });
        self
    }

    /// The [`Host`] to pass to a hook. Its requests land in this recorder.
    pub fn host(&mut self) -> Host<'_> {
        Host::from_handle(HostHandle::new(&mut self.perform))
    }

    /// Every op sent so far, in order, including refused and failed ones.
    pub fn ops(&self) -> Vec<HostOp> {
        self.state.borrow().ops.clone()
    }

    /// The ops named `op` (as [`HostOp::name`] spells it, e.g. `"create-pair"`), in order.
    pub fn ops_named(&self, op: &str) -> Vec<HostOp> {
        self.state
            .borrow()
            .ops
            .iter()
            .filter(|o| o.name() == op)
            .cloned()
            .collect()
    }

    /// The names of every op sent so far, in order: the shortest way to assert a sequence.
    pub fn names(&self) -> Vec<&'static str> {
        self.state.borrow().ops.iter().map(HostOp::name).collect()
    }

    /// The ops that would change the system (every op but queries), in order. Empty after a
    /// `validate` that behaves.
    pub fn changes(&self) -> Vec<HostOp> {
        self.state
            .borrow()
            .ops
            .iter()
            .filter(|o| !o.is_query())
            .cloned()
            .collect()
    }

    /// Forgets the recorded ops (links, sysctls and failures stay), e.g. between two hooks.
    pub fn clear(&mut self) {
        self.state.borrow_mut().ops.clear();
    }

    /// True when the interface exists on that side now: declared, or made by the plugin.
    pub fn has_link(&self, side: Side, name: &str) -> bool {
        self.state
            .borrow()
            .links
            .contains_key(&(side, name.to_string()))
    }
}

fn alias_key(iface: &str, address: &Cidr) -> String {
    format!("{iface}|{address}")
}

impl State {
    fn perform(&mut self, op: &HostOp) -> Result<HostReply, HostError> {
        self.ops.push(op.clone());
        if let Some(failure) = self.failures.iter().find(|f| (f.matches)(op)) {
            return Err(failure.error.clone());
        }
        if self.phase == Phase::Validating && !op.is_query() {
            return Err(HostError::new(
                HostErrorKind::Unsupported,
                format!("{} is not allowed while validating", op.name()),
            ));
        }
        self.track_links(op);
        if let Some(reply) = self.replies.get(op.name()) {
            return Ok(reply.clone());
        }
        self.default_reply(op)
    }

    fn default_reply(&self, op: &HostOp) -> Result<HostReply, HostError> {
        Ok(match op {
            HostOp::LinkExists { side, name } => {
                HostReply::Flag(self.links.contains_key(&(*side, name.to_string())))
            }
            HostOp::LinkMtu { name } => HostReply::Number(
                self.links
                    .get(&(Side::Host, name.to_string()))
                    .copied()
                    .flatten()
                    .into(),
            ),
            HostOp::ReadSysctl { name } => match self.sysctls.get(name.as_str()) {
                Some(value) => HostReply::Text(value.as_str().into()),
                None => {
                    return Err(HostError::new(
                        HostErrorKind::NotFound,
                        format!(
                            "unknown sysctl {name} (declare it with RecordingHost::with_sysctl)"
                        ),
                    ))
                }
            },
            HostOp::AddHostAlias { iface, address } => {
                HostReply::Flag(!self.host_addresses.contains(&alias_key(iface, address)))
            }
            HostOp::RunCommand { .. } => HostReply::Output(CommandOutput {
                status: 0,
                stdout: "".into(),
                stderr: "".into(),
            }),
            HostOp::CniAdd { .. } => HostReply::Text(
                r#"{"cniVersion":"1.1.0","interfaces":[],"ips":[],"routes":[],"dns":{}}"#.into(),
            ),
            _ => HostReply::Done,
        })
    }

    /// Follows the links a plugin makes, so a later query sees them as a real host would.
    fn track_links(&mut self, op: &HostOp) {
        match op {
            HostOp::CreatePair {
                host,
                peer,
                peer_in_jail,
                mtu,
                ..
            } => {
                let mtu = mtu.into_option();
                self.links.insert((Side::Host, host.to_string()), mtu);
                let side = if *peer_in_jail {
                    Side::Jail
                } else {
                    Side::Host
                };
                self.links.insert((side, peer.to_string()), mtu);
            }
            HostOp::CreateBridge { name, mtu } => {
                let mtu = mtu.into_option().or(Some(DEFAULT_MTU));
                self.links.insert((Side::Host, name.to_string()), mtu);
            }
            HostOp::MoveToJail { name } => {
                if let Some(mtu) = self.links.remove(&(Side::Host, name.to_string())) {
                    self.links.insert((Side::Jail, name.to_string()), mtu);
                }
            }
            HostOp::RenameLink { side, from, to } => {
                if let Some(mtu) = self.links.remove(&(*side, from.to_string())) {
                    self.links.insert((*side, to.to_string()), mtu);
                }
            }
            HostOp::DestroyLink { side, name } => {
                self.links.remove(&(*side, name.to_string()));
            }
            _ => {}
        }
    }
}
