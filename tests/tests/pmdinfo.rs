//! dpdk-pmdinfo.py on the installed librte_net_fbnic.so.

use std::process::Command;
use std::time::Duration;

use fbnic_it::process::Proc;
use fbnic_it::{env, report};
use regex::Regex;

/// DPDK 22.11's `dpdk-pmdinfo.py` (run with /usr/bin/python3, which has pyelftools) finds the
/// PMD_INFO_STRING in the plugin's .rodata and prints it as JSON: exactly one driver,
/// net_fbnic, no PCI ids, and the devargs as documented (wire=, mac=, link=, bmc=, and the
/// model's test knobs).
#[test]
fn pmdinfo_lists_net_fbnic_and_its_parameters() {
    let env = env();
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg("/usr/bin/dpdk-pmdinfo.py").arg(&env.pmd);
    let mut p = Proc::spawn("dpdk-pmdinfo", cmd, false, &env.scratch);
    match p.wait(Duration::from_secs(60)) {
        Ok(st) if st.success() => {}
        Ok(st) => p.fail(&format!("dpdk-pmdinfo.py exited with {st}")),
        Err(e) => p.fail(&e),
    }
    let text = p.text();
    let names: Vec<String> = Regex::new(r#""name":\s*"([^"]*)""#)
        .unwrap()
        .captures_iter(&text)
        .map(|c| c[1].to_string())
        .collect();
    if names != ["net_fbnic"] {
        p.fail(&format!(
            "expected exactly one driver, net_fbnic; got {names:?}"
        ));
    }
    if text.contains("pci_ids") && !text.contains("\"pci_ids\": []") {
        p.fail("a vdev driver lists PCI ids");
    }
    let params = match Regex::new(r#""params":\s*"([^"]*)""#)
        .unwrap()
        .captures(&text)
    {
        Some(c) => c[1].to_string(),
        None => p.fail("no params for net_fbnic"),
    };
    let want = [
        "wire=pair|loop|cable:<name>|tap:<ifname>",
        "mac=<XX:XX:XX:XX:XX:XX>",
        "link=25G-CR|50G-CR2|50G-CR|100G-CR2",
        "bmc=0|1",
        "model_cpu=<cpu>|none",
        "model_poll_us=<us>",
        "model_nice=<-20..19>",
        "fw_version=<major.minor.patch.build>",
        "fw_fault=none|no_life|no_ownership|malformed|no_heartbeat|crash:<ms>",
        "fw_timeout_ms=<ms>",
        "rx_intr_usecs=<0..16383>",
        "rx_intr_frames=<1..16383>",
    ];
    let got: Vec<&str> = params.split_whitespace().collect();
    if got != want {
        p.fail(&format!("params {got:?}, expected {want:?}"));
    }
    report(&format!("dpdk-pmdinfo.py: net_fbnic, params \"{params}\""));
}
