//! The importers' parsers: objects as JSON and YAML (Lists, arrays, documents), watched events,
//! metrics samples, server versions, collector error files, failed-request logs and etcd
//! answers, and the timestamps of every parsed object. Bad input is an error, never a panic.
//!
//! Input: a selector byte, then the entry's bytes.
#![no_main]

use kubesnap_shared::import::parse;
use libfuzzer_sys::fuzz_target;

const ENTRY: &str = "fuzz/entry";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let hint = (selector & 0x80 != 0).then_some("Pod");
    match selector % 8 {
        0 | 1 => {
            let parsed = if selector % 8 == 0 {
                parse::objects_from_json(bytes, hint, Some("v1"), ENTRY)
            } else {
                parse::objects_from_yaml(bytes, hint, Some("v1"), ENTRY)
            };
            if let Ok(parsed) = parsed {
                for object in &parsed.objects {
                    let _ = parse::timestamps(object).newest();
                    let _ = parse::newest_timestamp(object);
                }
            }
        }
        2 => {
            for line in bytes.split(|&b| b == b'\n') {
                if let Ok(Some(object)) = parse::watched_event(line, ENTRY) {
                    let _ = parse::timestamps(&object);
                }
            }
        }
        3 => {
            for line in bytes.split(|&b| b == b'\n') {
                let _ = parse::metrics_line(line, ENTRY);
            }
        }
        4 => {
            let _ = parse::server_version(bytes, ENTRY);
        }
        5 => {
            let _ = parse::collector_errors(bytes, "pods", Some("default"), selector & 0x40 != 0, ENTRY);
        }
        6 => {
            let _ = parse::failed_requests(bytes);
        }
        _ => {
            let _ = parse::etcd_check("node-1", "endpointhealth", bytes, ENTRY);
            let _ = parse::etcd_check("node-1", "alarmlist", bytes, ENTRY);
        }
    }
});
