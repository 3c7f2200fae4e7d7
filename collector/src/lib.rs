//! The collector: discovery, resources, events, logs, metrics and kubelet stats, streamed into
//! one bundle through `kubesnap_shared::BundleWriter`.

use std::process::ExitCode;

/// Entry point of `kubesnap-collect`.
pub fn main() -> ExitCode {
    ExitCode::from(2)
}
