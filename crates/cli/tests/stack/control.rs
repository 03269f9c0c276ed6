//! The local AWS's control endpoints (`/_pipectl/...`): faults, delays, request log.

/// Calls the local AWS's fault-injection endpoint; returns its answer.
pub fn control(method: &str, body: &str) -> String {
    control_at("faults", method, body)
}

/// Calls one of the local AWS's control endpoints (`/_pipectl/<what>`); returns its answer.
pub fn control_at(what: &str, method: &str, body: &str) -> String {
    let url = format!("{}/_pipectl/{what}", super::endpoint());
    let o = std::process::Command::new("curl")
        .args([
            "-fsS",
            "-X",
            method,
            "-H",
            "Content-Type: application/json",
            "--data",
            body,
            &url,
        ])
        .output()
        .expect("curl");
    assert!(
        o.status.success(),
        "control endpoint: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Resets one of the local AWS's control endpoints when dropped (also when the test panics).
fn reset(what: &str) {
    let _ = std::process::Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "DELETE",
            &format!("{}/_pipectl/{what}", super::endpoint()),
        ])
        .output();
}

/// Switches fault injection off when dropped (also when the test panics).
pub struct FaultsOff;
impl Drop for FaultsOff {
    fn drop(&mut self) {
        reset("faults");
    }
}

/// Sets local AWS delays (`/_pipectl/config`) and puts the defaults back when dropped. The
/// delays are the local AWS's, shared by every test of a binary: one test at a time holds them
/// (the others wait), so one test's reset never cuts another's delay short.
pub struct Delays(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);
static DELAYS_HELD: std::sync::Mutex<()> = std::sync::Mutex::new(());
impl Delays {
    pub fn set(body: &str) -> Delays {
        let held = DELAYS_HELD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        control_at("config", "POST", body);
        Delays(held)
    }
}
impl Drop for Delays {
    fn drop(&mut self) {
        reset("config");
    }
}
