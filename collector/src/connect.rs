//! Connecting as kubectl does: `--kubeconfig`, else KUBECONFIG (several files merged) or
//! `~/.kube/config`, else the pod's in-cluster service account; `--context` picks the context.
//! kube-rs does the rest: exec credential plugins, client certificates, tokens, `proxy-url`.

use std::time::Duration;

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubesnap_shared::manifest::ClusterInfo;

use crate::cli::Cli;

/// A client and what is known of the cluster before the first request.
pub(crate) struct Connection {
    pub(crate) client: kube::Client,
    pub(crate) cluster: ClusterInfo,
    /// A name for the default output file: the kubeconfig cluster's name, or `in-cluster`.
    pub(crate) name: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("cluster", &self.cluster)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

pub(crate) async fn connect(cli: &Cli) -> anyhow::Result<Connection> {
    let kubeconfig = match &cli.kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .with_context(|| format!("failed to read kubeconfig {}", path.display()))?,
        ),
        None => match Kubeconfig::read() {
            Ok(kubeconfig) => Some(kubeconfig),
            Err(err) if cli.context.is_some() => {
                return Err(anyhow::Error::new(err)
                    .context("failed to read the kubeconfig (KUBECONFIG or ~/.kube/config)"));
            }
            Err(err) => {
                tracing::debug!("no kubeconfig ({err}); trying the in-cluster service account");
                None
            }
        },
    };
    let (mut config, context, name) = match kubeconfig {
        Some(kubeconfig) => {
            let context = cli.context.clone().or_else(|| kubeconfig.current_context.clone());
            let name = context
                .as_deref()
                .and_then(|context| kubeconfig.contexts.iter().find(|named| named.name == context))
                .and_then(|named| named.context.as_ref())
                .map(|context| context.cluster.clone())
                .or_else(|| context.clone())
                .unwrap_or_else(|| "cluster".to_owned());
            let options = KubeConfigOptions { context: cli.context.clone(), ..KubeConfigOptions::default() };
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .context("failed to load the kubeconfig context")?;
            (config, context, name)
        }
        None => {
            let config = kube::Config::incluster().context(
                "no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a pod",
            )?;
            (config, Some("in-cluster".to_owned()), "in-cluster".to_owned())
        }
    };
    config.connect_timeout = Some(cli.request_timeout.max(Duration::from_secs(1)));
    let cluster =
        ClusterInfo { context, server: Some(config.cluster_url.to_string()), version: None, platform: None };
    let client = kube::Client::try_from(config).context("failed to create the Kubernetes client")?;
    Ok(Connection { client, cluster, name: file_name_part(&name) })
}

/// A cluster name made safe for a file name: lower-case letters, digits and `-`.
pub(crate) fn file_name_part(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() { "cluster".to_owned() } else { out.chars().take(60).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_become_safe_file_names() {
        assert_eq!(
            file_name_part("arn:aws:eks:eu-west-1:123:cluster/prod"),
            "arn-aws-eks-eu-west-1-123-cluster-prod"
        );
        assert_eq!(file_name_part("Kind-Dev"), "kind-dev");
        assert_eq!(file_name_part("../.."), "cluster");
    }
}
