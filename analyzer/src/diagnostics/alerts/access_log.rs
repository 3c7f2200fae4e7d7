//! HTTP traffic as `HighErrorRate` sees it: the requests the loader counted in access-log lines
//! (every line of every log, per minute; `load/logscan/access.rs` reads the formats), grouped as
//! the HighErrorRate alert rule groups them.
//!
//! The rule sums `nginx_ingress_controller_requests` by ingress, over every controller replica:
//! requests that name an upstream (ingress-nginx's `<namespace>-<service>-<port>`) are summed per
//! upstream over every log that holds them. Access logs whose format names no upstream (common
//! and combined log format: a web server answering itself) are one group per container, current
//! and previous runs together. Requests nginx answered without an upstream (malformed ones) are
//! nobody's backend and are left out.

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, ContainerLog, ObjectRef};

/// Requests of one minute (or of a window of minutes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) total: u64,
    /// 4xx.
    pub(crate) client_errors: u64,
    /// 5xx.
    pub(crate) server_errors: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.total += other.total;
        self.client_errors += other.client_errors;
        self.server_errors += other.server_errors;
    }

    /// The share of 5xx; `None` without requests (a rate Prometheus would not have).
    pub(crate) fn server_error_share(&self) -> Option<f64> {
        (self.total > 0).then(|| self.server_errors as f64 / self.total as f64)
    }
}

/// Whose requests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Subject {
    /// `shop-web-80`.
    Upstream(String),
    /// A container's own access log.
    Container { namespace: String, pod: String, container: String },
}

/// The requests of one subject, summed over its logs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Traffic {
    pub(crate) subject: Subject,
    /// The pods whose logs hold them, in order.
    pub(crate) pods: Vec<ObjectRef>,
    /// The bundle paths of those logs, in order.
    pub(crate) paths: Vec<String>,
    pub(crate) statuses: BTreeMap<u16, u64>,
    /// Unix minute → requests.
    pub(crate) minutes: BTreeMap<i64, Counts>,
    /// Requests with no minute (no readable time).
    pub(crate) unbucketed: u64,
}

impl Traffic {
    /// Every request, with or without a minute.
    pub(crate) fn total(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Every 5xx, with or without a minute.
    pub(crate) fn server_errors(&self) -> u64 {
        self.statuses.range(500..600).map(|(_, count)| count).sum()
    }

    /// Every 4xx, with or without a minute.
    pub(crate) fn client_errors(&self) -> u64 {
        self.statuses.range(400..500).map(|(_, count)| count).sum()
    }

    /// The requests of the minutes `from..=to`.
    pub(crate) fn window(&self, from: i64, to: i64) -> Counts {
        let mut counts = Counts::default();
        for (_, minute) in self.minutes.range(from..=to) {
            counts.add(*minute);
        }
        counts
    }
}

/// Every subject with requests, in subject order (upstreams by name, then containers).
pub(crate) fn traffic(model: &ClusterModel) -> Vec<Traffic> {
    let mut by_subject: BTreeMap<Subject, Traffic> = BTreeMap::new();
    for log in &model.logs {
        for requests in &log.requests {
            let subject = match &requests.upstream {
                Some(upstream) if upstream.is_empty() => continue,
                Some(upstream) => Subject::Upstream(upstream.clone()),
                None => Subject::Container {
                    namespace: log.key.namespace.clone(),
                    pod: log.key.pod.clone(),
                    container: log.key.container.clone(),
                },
            };
            let traffic = by_subject.entry(subject.clone()).or_insert_with(|| Traffic {
                subject,
                pods: Vec::new(),
                paths: Vec::new(),
                statuses: BTreeMap::new(),
                minutes: BTreeMap::new(),
                unbucketed: 0,
            });
            add_log(traffic, log);
            for (status, count) in &requests.statuses {
                *traffic.statuses.entry(*status).or_default() += count;
            }
            for minute in &requests.minutes {
                traffic.minutes.entry(minute.minute).or_default().add(Counts {
                    total: u64::from(minute.total),
                    client_errors: u64::from(minute.client_errors),
                    server_errors: u64::from(minute.server_errors),
                });
            }
            traffic.unbucketed += requests.unbucketed;
        }
    }
    by_subject.into_values().collect()
}

fn add_log(traffic: &mut Traffic, log: &ContainerLog) {
    let pod = ObjectRef {
        kind: "Pod".to_owned(),
        namespace: Some(log.key.namespace.clone()),
        name: log.key.pod.clone(),
    };
    if !traffic.pods.contains(&pod) {
        traffic.pods.push(pod);
    }
    if !traffic.paths.contains(&log.path) {
        traffic.paths.push(log.path.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn sums_an_upstream_over_controller_replicas_and_keeps_containers_apart() {
        let line = |minute: u32, status: u16, upstream: &str| {
            format!(
                "- '10.0.0.1 - - [01/Jun/2025:11:5{minute}:07 +0000] \"GET / HTTP/1.1\" {status} 1 \"-\" \
                 \"c\" 1 0.1 [{upstream}] [] x 1 0.1 {status} r'\n"
            )
        };
        let mut fixture = String::new();
        for pod in ["ingress-a", "ingress-b"] {
            fixture.push_str(&format!(
                "---\nkind: ContainerLog\nnamespace: ingress-nginx\npod: {pod}\ncontainer: controller\n\
                 lines:\n"
            ));
            fixture.push_str(&line(0, 200, "shop-web-80"));
            fixture.push_str(&line(1, 503, "shop-web-80"));
            fixture.push_str(&line(1, 400, ""));
        }
        fixture
            .push_str("---\nkind: ContainerLog\nnamespace: shop\npod: static-0\ncontainer: nginx\nlines:\n");
        fixture
            .push_str("- '10.0.0.9 - - [01/Jun/2025:11:50:00 +0000] \"GET / HTTP/1.1\" 404 1 \"-\" \"c\"'\n");
        let model = model_from_yaml(&fixture);
        let traffic = traffic(&model);
        assert_eq!(traffic.len(), 2, "the requests nginx answered itself belong to no upstream");
        let web = &traffic[0];
        assert_eq!(web.subject, Subject::Upstream("shop-web-80".to_owned()));
        assert_eq!(
            web.pods.iter().map(|pod| pod.name.as_str()).collect::<Vec<_>>(),
            ["ingress-a", "ingress-b"]
        );
        let minute = "2025-06-01T11:50:00Z".parse::<jiff::Timestamp>().unwrap().as_second() / 60;
        assert_eq!(web.window(minute, minute), Counts { total: 2, client_errors: 0, server_errors: 0 });
        assert_eq!(web.window(minute, minute + 1), Counts { total: 4, client_errors: 0, server_errors: 2 });
        assert_eq!((web.total(), web.server_errors()), (4, 2));
        assert!(matches!(&traffic[1].subject, Subject::Container { pod, .. } if pod == "static-0"));
        assert_eq!(traffic[1].client_errors(), 1);
    }
}
