//! "Did you mean ...?": the nearest known name to a mistyped one, by edit distance.
//!
//! Users type `defaultroutr` or `vnet_mac`; the error then names the property they most likely
//! meant. A suggestion is only made when it is close enough to be a typo (a quarter of the
//! typed length, at least one and at most three edits), so a word that resembles nothing gets
//! no misleading hint.

use super::registry::{self, MAC_SUFFIX};

/// The optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbouring characters each cost one (`defaultroutr` is one from `defaultrouter`).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// How many edits still count as a typo of `typed`.
fn tolerance(typed: &str) -> usize {
    (typed.chars().count() / 4).clamp(1, 3)
}

/// The candidate nearest to `typed` when it is close enough to be a typo; the first of equally
/// near ones. Never `typed` itself.
pub fn nearest<'c>(typed: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = tolerance(typed);
    // Case does not count: `VNET` is a typo of `vnet`.
    let lower = typed.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != typed)
        .map(|c| (distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `; did you mean 'NAME'?` for the nearest declared property, or nothing.
pub fn property_hint(typed: &str) -> String {
    hint(nearest(typed, registry::all().iter().map(|p| p.name)))
}

/// `; did you mean 'NIC_mac'?` for a `<nic>_mac` key whose NIC is not one of `nics` (the
/// jail's NICs), or nothing.
pub fn mac_hint(typed: &str, nics: &[String]) -> String {
    let keys: Vec<String> = nics.iter().map(|n| format!("{n}{MAC_SUFFIX}")).collect();
    hint(nearest(typed, keys.iter().map(String::as_str)))
}

fn hint(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!("; did you mean '{s}'?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("vnet", ""), 4);
        assert_eq!(distance("defaultroutr", "defaultrouter"), 1);
        assert_eq!(distance("vnet_mac", "vnet0_mac"), 1);
        assert_eq!(distance("ip4_adr", "ip4_addr"), 1);
        assert_eq!(distance("inetrfaces", "interfaces"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_only_typos() {
        let names = ["defaultrouter", "defaultrouter6", "vnet", "ip4_addr"];
        assert_eq!(nearest("defaultroutr", names), Some("defaultrouter"));
        assert_eq!(nearest("ip4addr", names), Some("ip4_addr"));
        assert_eq!(nearest("vnte", names), Some("vnet"));
        assert_eq!(nearest("VNET", names), Some("vnet"));
        assert_eq!(nearest("bogus", names), None);
        assert_eq!(nearest("x", names), None);
        assert_eq!(nearest("vnet", names), None, "never the word itself");
    }

    #[test]
    fn hints_name_the_registry_and_the_jails_nics() {
        assert_eq!(
            property_hint("defaultroutr"),
            "; did you mean 'defaultrouter'?"
        );
        assert_eq!(property_hint("completely_unrelated_words"), "");
        let nics = vec!["vnet0".to_string(), "vnet1".to_string()];
        assert_eq!(mac_hint("vnet_mac", &nics), "; did you mean 'vnet0_mac'?");
        assert_eq!(mac_hint("eth9_mac", &nics), "");
    }
}
