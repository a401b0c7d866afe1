//! The `cni` mode in the benchmark: jails on a network list of the benchmark's own (one
//! `bridge` plugin with host-local IPAM, the same chain `bench_cni` runs on bare namespaces),
//! and the overhead ioc adds on top of the plugins.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{ends, median, ms, Series, CNI_DIR};

/// The network list's name.
const NETWORK: &str = "bench-ioc";

/// Writes the list for round `n` under `dir` and returns its conf dir. Its bridge and subnet
/// are not those of the bare-namespace series, so the two never share a bridge.
pub fn write_list(dir: &Path, n: usize) -> PathBuf {
    let conf_dir = dir.join(format!("cni-conf-{n}"));
    fs::create_dir_all(&conf_dir).expect("CNI conf dir");
    let list = format!(
        r#"{{"cniVersion":"1.0.0","name":"{NETWORK}","plugins":[{{"type":"bridge","bridge":"cnibr1","isGateway":true,"ipMasq":false,"ipam":{{"type":"host-local","subnet":"10.98.0.0/16","dataDir":"{}"}}}}]}}"#,
        dir.join(format!("cni-ipam-ioc-{n}")).display()
    );
    fs::write(conf_dir.join(format!("{NETWORK}.conflist")), list).expect("write CNI list");
    conf_dir
}

/// The `ioc create` arguments of a CNI jail on that list.
pub fn create_args(name: &str, conf_dir: &Path) -> Vec<String> {
    vec![
        "create".into(),
        name.into(),
        "vnet=on".into(),
        "network_plugin=cni".into(),
        format!("cni_network={NETWORK}"),
        format!("cni_conf_dir={}", conf_dir.display()),
        format!("cni_path={CNI_DIR}"),
    ]
}

/// What ioc adds per CNI jail: its start's median minus the median of the same chain's
/// attach plus the namespace creation (what any runtime has to do), and how flat that is.
pub fn report_overhead(series: &[Series]) {
    let find = |label: &str| series.iter().find(|s| s.label == label);
    let (Some(ioc), Some(bare)) = (find("ioc cni"), find("CNI + netns")) else {
        return;
    };
    let med = |v: &[Duration]| median(&mut v.to_vec());
    let overhead = med(&ioc.start).saturating_sub(med(&bare.start));
    let (first, last) = ends(&ioc.start);
    let (bare_first, bare_last) = ends(&bare.start);
    println!(
        "cni overhead per jail: start {} over CNI + netns (aim <= 2 ms); stop {} over CNI DEL; \
         first/last tenth {} / {} (bare {} / {})",
        ms(overhead),
        ms(med(&ioc.stop).saturating_sub(med(&bare.stop))),
        ms(first.saturating_sub(bare_first)),
        ms(last.saturating_sub(bare_last)),
        ms(bare_first),
        ms(bare_last),
    );
    if let Some(plain) = find("ioc vnet") {
        println!(
            "cni start is {:.2}x plain vnet",
            med(&ioc.start).as_secs_f64() / med(&plain.start).as_secs_f64().max(1e-9)
        );
    }
}
