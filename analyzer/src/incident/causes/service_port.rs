//! Rule `service-port` (routing): a Service sends its clients to a port its pods do not serve,
//! so every connection is refused although its endpoints are Ready.
//!
//! Fires per Service with a ready backend whose port a client's configuration names (env
//! `SEARCH_URL=http://search`, resolved against the bundle) and whose numeric targetPort none of
//! its pods declares while a container port carries the Service port's own name under another
//! number (`http` → 9200, targetPort 8080): the pods themselves show what was meant. A client's
//! log errors need not be current: the configuration and the ports are. Pods that declare no
//! port, or the target, or no port of that name, are never judged (declaring ports is optional).
//! Score 75. Severity P2: the Service's clients fail, which only their own findings can weigh.
//!
//! Disproved by: a process of the pods listening on the targetPort although no container
//! declares it (then the declared name is only a label).

use std::collections::BTreeMap;

use kubesnap_shared::model::{Object, ObjectRef};

use super::{Context, Hypothesis, Step, subject_of};
use crate::facts::kubectl::Kubectl;
use crate::facts::network::targets::{self, Verdict};
use crate::facts::network::{backends, pod_health};
use crate::finding::Severity;
use crate::incident::links;

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    // The Services clients' configurations name on a port their pods do not serve, with the
    // clients and where they name it.
    let mut clients: BTreeMap<ObjectRef, Vec<(&Object, String)>> = BTreeMap::new();
    for pod in facts.cluster().of_kind("Pod").filter(|pod| !pod_health::is_gone(pod)) {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        for target in targets::in_env(pod) {
            let resolved = targets::resolve(facts, namespace, Some(pod), &target);
            if let (Verdict::PortMismatch, Some(service)) = (resolved.verdict, resolved.service) {
                clients.entry(service).or_default().push((pod, target.origin));
            }
        }
    }
    let mut out = Vec::new();
    for (reference, named_by) in clients {
        let Some(service) = facts.cluster().get("Service", reference.namespace.as_deref(), &reference.name)
        else {
            continue;
        };
        let found = backends::of_service(facts, service);
        if found.ready == 0 {
            continue;
        }
        let Some(misrouted) = targets::misrouted_ports(service, &found.pods).into_iter().next() else {
            continue;
        };
        out.push(hypothesis(context, service, &found.pods, &misrouted, &named_by));
    }
    out
}

fn hypothesis(
    context: &Context<'_, '_>,
    service: &Object,
    pods: &[&Object],
    misrouted: &targets::MisroutedPort,
    named_by: &[(&Object, String)],
) -> Hypothesis {
    let facts = context.facts;
    let reference = service.reference();
    let targets::MisroutedPort { name, port, target, served } = misrouted;
    let mut backends: Vec<ObjectRef> = pods.iter().map(|pod| subject_of(facts, pod)).collect();
    backends.sort();
    backends.dedup();
    let mut callers: Vec<ObjectRef> = named_by.iter().map(|(pod, _)| subject_of(facts, pod)).collect();
    callers.sort();
    callers.dedup();
    let caller_text: Vec<String> = callers.iter().map(links::label).collect();
    let title = format!(
        "Service {} sends port {port} ({name}) to targetPort {target}, which its pods do not serve: they \
         declare {name} as {served}; {} names it, so its connections are refused although the endpoints \
         are Ready",
        links::short(&reference),
        caller_text.join(", ")
    );
    let mut hypothesis = context.hypothesis("service-port", title, 75, Severity::P2);
    hypothesis.own_severity = Some(Severity::P2);
    hypothesis.chain.push(Step::new(
        service.created_at(),
        reference.clone(),
        format!("port {port} ({name}) → targetPort {target}"),
    ));
    for (pod, origin) in named_by.iter().take(3) {
        hypothesis.chain.push(Step::new(
            None,
            subject_of(facts, pod),
            format!("names Service {} in its {origin}", service.name),
        ));
    }
    let backend_text: Vec<String> = backends.iter().map(links::label).collect();
    hypothesis.evidence.push(format!(
        "{} of Service {} declare port {name} as {served} and no port {target}",
        backend_text.join(", "),
        service.name
    ));
    hypothesis.evidence.push(format!(
        "its endpoints carry port {target}: the endpoints controller copies a numeric targetPort, \
         whatever the pods serve"
    ));
    hypothesis
        .disproved_by
        .push(format!("a process of the pods listening on {target} although no container declares it"));
    let mut objects = vec![reference.clone()];
    objects.extend(backends.iter().cloned());
    objects.extend(callers.iter().cloned());
    objects.extend(pods.iter().map(|pod| pod.reference()));
    hypothesis.findings =
        context.linked(&["service-target-port-mismatch", "log-error-patterns", "dependency-down"], &objects);
    hypothesis.objects = objects;
    let namespace = reference.namespace.as_deref().unwrap_or_default();
    let patch =
        format!(r#"{{"spec":{{"ports":[{{"name":"{name}","port":{port},"targetPort":"{name}"}}]}}}}"#);
    hypothesis.mitigation.push(
        Kubectl::new("patch service")
            .name(&service.name)
            .namespace(namespace)
            .arg("--type merge -p")
            .name(&patch)
            .into(),
    );
    hypothesis
        .mitigation
        .push(Kubectl::new("get endpoints").name(&service.name).namespace(namespace).arg("-o wide").into());
    hypothesis
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    const STORY: &str = r#"
kind: Service
apiVersion: v1
metadata: {name: search, namespace: shop}
spec: {selector: {app: search}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
kind: Endpoints
apiVersion: v1
metadata: {name: search, namespace: shop}
subsets: [{addresses: [{ip: 10.0.0.5}], ports: [{name: http, port: 8080}]}]
---
kind: Pod
apiVersion: v1
metadata: {name: search-1, namespace: shop, labels: {app: search}}
spec: {containers: [{name: search, image: search:6, ports: [{name: http, containerPort: 9200}]}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
kind: Pod
apiVersion: v1
metadata: {name: web-ui-1, namespace: shop, labels: {app: web-ui}}
spec: {containers: [{name: web-ui, image: web-ui:2, env: [{name: SEARCH_URL, value: "http://search"}]}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;

    #[test]
    fn a_target_port_the_pods_name_otherwise_is_the_cause_for_its_clients() {
        let out = of_rule(STORY, "service-port");
        assert!(
            out.contains(
                "Service shop/search sends port 80 (http) to targetPort 8080, which its pods do not \
                 serve: they declare http as 9200; Pod shop/web-ui-1 names it"
            ),
            "{out}"
        );
        assert!(out.contains("$ kubectl patch service search -n shop --type merge -p"), "{out}");
    }

    #[test]
    fn pods_that_declare_no_port_of_the_name_are_not_judged() {
        // A metrics port beside an undeclared serving port is common: nothing shows the mistake.
        assert_eq!(
            of_rule(
                &STORY.replace("{name: http, containerPort: 9200}", "{name: metrics, containerPort: 9200}"),
                "service-port"
            ),
            ""
        );
        // Nobody names the Service: nothing fails because of it that the bundle shows.
        assert_eq!(
            of_rule(&STORY.replace("http://search", "http://elsewhere.example.com"), "service-port"),
            ""
        );
        // The pods declare the target too.
        assert_eq!(
            of_rule(
                &STORY.replace(
                    "[{name: http, containerPort: 9200}]",
                    "[{name: http, containerPort: 9200}, {containerPort: 8080}]"
                ),
                "service-port"
            ),
            ""
        );
    }
}
