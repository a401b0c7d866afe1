//! The property table: every property of the jail configuration, declared once.
//!
//! The semantics follow shared/reference/freebsd-behaviour.md; each help line says what the
//! property does and which forms it accepts, and is what `ioc help properties` and the README
//! show.

use super::registry::properties;
use super::registry::Builtin::{Fixed, PerPlatform};
use super::syntax::{
    Bit, Interfaces, Ip4Addrs, Ip6Addrs, JailIpMode, MacPrefix, NetworkPlugin, OnOff, PluginName,
    ResolvConf, Router4, Router6, ShellCommand,
};
use crate::filter::Filter;

properties! {
    VNET: OnOff = "vnet", Fixed("off"), Jail,
        "Own network stack (VNET) instead of sharing the host's: on or off (yes/no, true/false, 1/0)";
    INTERFACES: Interfaces = "interfaces", Fixed("none"), Jail,
        "VNET NICs: NIC:BRIDGE pairs separated by commas or spaces; NIC::BRIDGE for Secure VNET";
    IP4_ADDR: Ip4Addrs = "ip4_addr", Fixed("none"), Jail,
        "IPv4 addresses in order: NIC|ADDRESS[/PREFIX] (default /32) or NIC|dhcp, comma-separated";
    IP6_ADDR: Ip6Addrs = "ip6_addr", Fixed("none"), Jail,
        "IPv6 addresses in order: NIC|ADDRESS[/PREFIX] (default /128) or NIC|accept_rtadv, comma-separated";
    DEFAULTROUTER: Router4 = "defaultrouter", Fixed("none"), Jail,
        "IPv4 default gateway of a VNET jail: IP or IP@NIC (adds an interface route first)";
    DEFAULTROUTER6: Router6 = "defaultrouter6", Fixed("none"), Jail,
        "IPv6 default gateway of a VNET jail: IP or IP@NIC";
    MAC_PREFIX: MacPrefix = "mac_prefix", Fixed("02ff60"), Jail,
        "First 6 hex digits of generated MACs (a unicast prefix)";
    IP4: JailIpMode = "ip4", Fixed("new"), Jail,
        "Kernel ip4 jail param: new, inherit or disable";
    IP6: JailIpMode = "ip6", Fixed("new"), Jail,
        "Kernel ip6 jail param: new, inherit or disable";
    IP4_SADDRSEL: Bit = "ip4_saddrsel", Fixed("1"), Jail,
        "Kernel ip4.saddrsel jail param of non-VNET jails: 0 or 1";
    IP6_SADDRSEL: Bit = "ip6_saddrsel", Fixed("1"), Jail,
        "Kernel ip6.saddrsel jail param of non-VNET jails: 0 or 1";
    ALLOW_RAW_SOCKETS: Bit = "allow_raw_sockets", Fixed("0"), Jail,
        "Kernel allow.raw_sockets jail param: 0 or 1";
    DHCP_SERVER: OnOff = "dhcp_server", Fixed("off"), Jail,
        "The jail is its network's DHCP server: on lets its DHCP server replies out of Secure VNET ports, which drop them otherwise (on or off)";
    RESOLVER: ResolvConf = "resolver", Fixed("/etc/resolv.conf"), Jail,
        "The jail's resolv.conf: /etc/resolv.conf (copy the host's), none (leave alone) or ;-separated lines";
    EXEC_PRESTART: ShellCommand = "exec_prestart", Fixed("none"), Jail,
        "Shell command run on the host before the jail is created";
    EXEC_CREATED: ShellCommand = "exec_created", Fixed("none"), Jail,
        "Shell command run on the host after the jail is created, before its network";
    EXEC_START: ShellCommand = "exec_start", Fixed("none"), Jail,
        "Shell command run inside the jail once its network is up";
    EXEC_POSTSTART: ShellCommand = "exec_poststart", Fixed("none"), Jail,
        "Shell command run on the host after the jail has started";
    EXEC_PRESTOP: ShellCommand = "exec_prestop", Fixed("none"), Jail,
        "Shell command run on the host before the jail stops";
    EXEC_STOP: ShellCommand = "exec_stop", Fixed("none"), Jail,
        "Shell command run inside the jail when it stops";
    EXEC_POSTSTOP: ShellCommand = "exec_poststop", Fixed("none"), Jail,
        "Shell command run on the host after the jail is removed";
    DEPENDS: Filter = "depends", Fixed("none"), Jail,
        "Jails to start first: a filter such as jail-b,jail-c";
    NETWORK_PLUGIN: NetworkPlugin = "network_plugin", Fixed("auto"), Jail,
        "Network mode plugin: auto (the enabled mode that serves the jail's vnet, interfaces and nat: shared-ip, vnet, secure-vnet or nat as shipped) or a plugin name";
    FIREWALL: PluginName = "firewall", PerPlatform { linux: "nftables", freebsd: "ipfw" }, Host,
        "Firewall backend plugin for Secure VNET: nftables, ipfw, pf or another plugin's name";
}
