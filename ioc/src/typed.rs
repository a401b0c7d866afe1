//! Property values as output cells: the canonical text for tables and `KEY=VALUE` lines, and
//! a JSON value of the right type (true/false for switches, a number for `priority`, an array
//! for list properties, null for an absent value) for `--output-format json`. `ioc list`, its
//! `-o` columns and `ioc get` share these rules, so one property has one JSON type everywhere.

use ioc_core::config::syntax::{Syntax, NONE};
use ioc_core::config::Value;

use crate::output::Cell;

/// A list-valued property: the canonical text, and its entries as a JSON array (empty for
/// `none`).
pub fn entries<T: Syntax>(value: T) -> Cell {
    let text = value.print();
    let items = if text == NONE {
        Vec::new()
    } else {
        value.items()
    };
    Cell::list(text, items)
}

/// An optional property: the canonical text, and the value or null in JSON.
pub fn optional<T: Syntax>(value: T) -> Cell {
    let text = value.print();
    let json = (text != NONE).then(|| text.clone());
    Cell::optional(text, json)
}

/// Any declared property's value. Syntaxes not named here are text (null when `none`).
pub fn cell(value: &Value) -> Cell {
    match value {
        Value::OnOff(v) => Cell::boolean(v.0, &v.print()),
        Value::Bit(v) => Cell::boolean(v.0, &v.print()),
        Value::Priority(v) => Cell::number(Some(u32::from(v.0))),
        Value::Interfaces(v) => entries(v.clone()),
        Value::Ip4Addrs(v) => entries(v.clone()),
        Value::Ip6Addrs(v) => entries(v.clone()),
        Value::NatForwards(v) => entries(v.clone()),
        Value::Mounts(v) => entries(v.clone()),
        other => {
            let text = other.print();
            let json = (text != NONE).then(|| text.clone());
            Cell::optional(text, json)
        }
    }
}

/// A key's cell from its value when it is a declared property, else its printed text (the
/// `<nic>_mac` and `user.*` keys are text).
pub fn key_cell(value: Option<&Value>, text: String) -> Cell {
    match value {
        Some(value) => cell(value),
        None => Cell::text(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_core::config::registry;
    use serde_json::json;

    fn typed(key: &str, text: &str) -> serde_json::Value {
        let value = registry::classify(key).unwrap().parse(text).unwrap();
        cell(&value).json
    }

    #[test]
    fn json_types_by_syntax() {
        assert_eq!(typed("vnet", "yes"), json!(true));
        assert_eq!(typed("priority", "10"), json!(10));
        assert_eq!(
            typed("interfaces", "vnet0:bridge0"),
            json!(["vnet0:bridge0"])
        );
        assert_eq!(typed("ip4_addr", "none"), json!([]));
        assert_eq!(typed("defaultrouter", "none"), json!(null));
        assert_eq!(typed("defaultrouter", "10.0.0.1"), json!("10.0.0.1"));
        assert_eq!(
            cell(&registry::classify("vnet").unwrap().parse("off").unwrap()).text,
            "off"
        );
    }
}
