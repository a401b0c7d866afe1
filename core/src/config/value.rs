//! [`Value`]: a typed property value of any syntax, as stored in settings and resolved views.

use super::syntax::Priority;
use super::syntax::{
    Bit, Interfaces, Ip4Addrs, Ip6Addrs, JailIpMode, MacPair, MacPrefix, NetworkPlugin, OnOff,
    PluginName, ResolvConf, Router4, Router6, ShellCommand, Syntax, Text,
};
use super::syntax::{CniBandwidth, CniConfDir, CniIfname, CniNetwork, CniPath};
use super::syntax::{JailPath, Mounts};
use super::syntax::{NatBackend, NatForwards, NatInterface, NatPrefix};
use crate::filter::Filter;

/// A syntax that can live inside a [`Value`]; implemented by the macro below for every variant.
pub trait Typed: Syntax + 'static {
    fn wrap(self) -> Value;
    fn unwrap(value: &Value) -> Option<&Self>;
}

macro_rules! values {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// A property value of one of the syntaxes in [`super::syntax`].
        #[derive(Clone, Debug, PartialEq)]
        pub enum Value {
            $($variant($ty),)*
        }

        impl Value {
            /// The canonical text ([`Syntax::print`]).
            pub fn print(&self) -> String {
                match self {
                    $(Value::$variant(v) => v.print(),)*
                }
            }

            /// What filters compare ([`Syntax::items`]).
            pub fn items(&self) -> Vec<String> {
                match self {
                    $(Value::$variant(v) => v.items(),)*
                }
            }
        }

        $(
            impl Typed for $ty {
                fn wrap(self) -> Value {
                    Value::$variant(self)
                }
                fn unwrap(value: &Value) -> Option<&Self> {
                    match value {
                        Value::$variant(v) => Some(v),
                        _ => None,
                    }
                }
            }
        )*
    };
}

values! {
    OnOff(OnOff),
    Bit(Bit),
    Interfaces(Interfaces),
    Ip4Addrs(Ip4Addrs),
    Ip6Addrs(Ip6Addrs),
    Router4(Router4),
    Router6(Router6),
    MacPrefix(MacPrefix),
    MacPair(MacPair),
    JailIpMode(JailIpMode),
    ResolvConf(ResolvConf),
    ShellCommand(ShellCommand),
    Filter(Filter),
    NetworkPlugin(NetworkPlugin),
    PluginName(PluginName),
    Text(Text),
    // NAT (issue 12).
    NatPrefix(NatPrefix),
    NatInterface(NatInterface),
    NatForwards(NatForwards),
    NatBackend(NatBackend),
    // A jail's own root (issue 16).
    JailPath(JailPath),
    Mounts(Mounts),
    // Boot order (issue 15).
    Priority(Priority),
    // CNI (issue 13).
    CniNetwork(CniNetwork),
    CniConfDir(CniConfDir),
    CniPath(CniPath),
    CniIfname(CniIfname),
    CniBandwidth(CniBandwidth),
}

/// Parses `text` as `T` and wraps it; a [`super::registry::Property`]'s parser.
pub(crate) fn parse_value<T: Typed>(text: &str) -> Result<Value, super::syntax::Reason> {
    T::parse(text).map(T::wrap)
}

/// `T`'s default wrapped; the last-resort value of a property (see `Property::builtin_value`).
pub(crate) fn empty_value<T: Typed>() -> Value {
    T::default().wrap()
}
