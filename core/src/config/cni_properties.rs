//! The CNI properties (issue 13), declared apart from the main table so the `cni` mode's
//! configuration reads in one place. Defaults are those of the CNI tools (libcni, cnitool).

use super::registry::properties;
use super::registry::Builtin::Fixed;
use super::syntax::{CniBandwidth, CniConfDir, CniIfname, CniNetwork, CniPath, OnOff};

properties! {
    CNI_NETWORK: CniNetwork = "cni_network", Fixed("none"), Jail,
        "CNI network list a network_plugin=cni jail joins: none or the list's name (found in cni_conf_dir)";
    CNI_CONF_DIR: CniConfDir = "cni_conf_dir", Fixed("/etc/cni/net.d"), Jail,
        "Directory of the CNI network lists (*.conflist, *.conf, *.json): an absolute path";
    CNI_PATH: CniPath = "cni_path", Fixed("/opt/cni/bin:/usr/lib/cni"), Jail,
        "Directories searched for CNI plugins, in order: absolute paths separated by ':'";
    CNI_IFNAME: CniIfname = "cni_ifname", Fixed("eth0"), Jail,
        "The jail's interface the CNI network creates (CNI_IFNAME); its MACs are <cni_ifname>_mac";
    CNI_SECURE: OnOff = "cni_secure", Fixed("off"), Jail,
        "Secure VNET filter on a CNI jail's host-side interface with the result's addresses: on or off";
    CNI_BANDWIDTH: CniBandwidth = "cni_bandwidth", Fixed("none"), Jail,
        "Rate limits for a CNI jail (runtimeConfig bandwidth, needs the bandwidth plugin): none or in=RATE,out=RATE in bits/s (k, M, G), optional /BURST";
}
