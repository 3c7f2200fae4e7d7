#!/usr/bin/env python3
"""What one collection captured, as JSON on stdout: objects per kind, the number of kinds,
container logs that hold something (current and previous; empty ones and failed requests are
counted apart), events
watched, metric samples, files and bytes. Reads a kubesnap bundle (.tar.gz), the folder that
`kubectl cluster-info dump --output-directory DIR` writes (JSON Lists and per-pod logs.txt), or
a troubleshoot support bundle (.tar.gz holding `cluster-resources/`; see troubleshoot_bundle).
With --k8sgpt, what `k8sgpt analyze --output json` reported (results per kind); with
--kubesnap-findings, what kubesnap-analyze's findings.json holds (findings per severity).

Usage: bench/collector_count.py PATH | --k8sgpt FILE | --kubesnap-findings FILE"""

import json
import os
import re
import sys
import tarfile
from collections import Counter

# `kubectl cluster-info dump` frames every container's log with these lines; a failed request
# writes one of its error lines between them instead of the log.
START = re.compile(rb'^==== START logs for container (\S+) of pod (\S+) ====$')
END = re.compile(rb'^==== END logs for container (\S+) of pod (\S+) ====$')
DUMP_ERRORS = (b'Request log error: ', b'Create log request error: ')


def count_list(data, kinds):
    """Adds the items of one List document to kinds; returns the number of items."""
    doc = json.loads(data)
    items = doc.get('items') or []
    list_kind = doc.get('kind', '')
    for item in items:
        kind = item.get('kind') or (list_kind[:-4] if list_kind.endswith('List') else list_kind)
        group = (item.get('apiVersion') or doc.get('apiVersion') or '').rpartition('/')[0]
        kinds['%s.%s' % (kind, group) if group else kind] += 1
    return len(items)


def kubesnap_bundle(path):
    kinds = Counter()
    logs = Counter()
    watched = samples = files = uncompressed = 0
    manifest = {}
    with tarfile.open(path, 'r:gz') as archive:
        for member in archive:
            if not member.isfile():
                continue
            files += 1
            uncompressed += member.size
            # Every entry sits under the bundle's root folder.
            name = member.name.split('/', 1)[1] if '/' in member.name else member.name
            if name.startswith('resources/') and name.endswith('.json'):
                count_list(archive.extractfile(member).read(), kinds)
            elif name.startswith('logs/'):
                # Logs that hold something; empty ones are counted apart (as for kubectl).
                key = 'previous' if name.endswith('.previous.log') else 'current'
                logs[key if member.size else 'empty'] += 1
            elif name == 'events/watched.jsonl':
                watched = sum(1 for line in archive.extractfile(member) if line.strip())
            elif name.startswith('metrics/') and name.endswith('.jsonl'):
                samples += sum(1 for line in archive.extractfile(member) if line.strip())
            elif name == 'manifest.json':
                manifest = json.load(archive.extractfile(member))
    failures = Counter(f.get('what', '?') for f in manifest.get('failures', []))
    return {
        'tool': 'kubesnap-collect',
        'kinds': dict(sorted(kinds.items())),
        'n_kinds': len(kinds),
        'objects': sum(kinds.values()),
        'logs_current': logs['current'],
        'logs_previous': logs['previous'],
        'logs_empty': logs['empty'],
        'log_errors': failures.get('logs', 0) + failures.get('previous-logs', 0),
        'events_watched': watched,
        'metric_samples': samples,
        'failures': dict(sorted(failures.items())),
        'complete': manifest.get('complete'),
        'files': files,
        'bytes_on_disk': os.path.getsize(path),
        'bytes_uncompressed': uncompressed,
    }


# troubleshoot's cluster-resources/ files that hold no Kubernetes objects: the API discovery
# documents, the permission reviews, the license probe and the per-kind error lists.
TROUBLESHOOT_NOT_OBJECTS = ('cluster-resources/groups.json', 'cluster-resources/resources.json',
                            'cluster-resources/license.json')
# troubleshoot writes each container's log to cluster-resources/pods/logs/NS/POD/CONTAINER.log
# (and CONTAINER-previous.log), links it from COLLECTOR/POD/CONTAINER.log, and records a failed
# request as COLLECTOR/POD/CONTAINER-errors.json or, for the unhealthy pods' logs that
# clusterResources fetches itself, as .../CONTAINER-logs-errors.log.
TROUBLESHOOT_LOGS = 'cluster-resources/pods/logs/'


def count_troubleshoot_objects(data, folder, kinds):
    """Adds the objects of one cluster-resources/ JSON file to kinds; returns their number.
    A file holds a List (built-in kinds, typed by client-go: items carry their kind, or the
    List does) or, for custom resources, a JSON array of objects. An item without any kind is
    named after the file's folder (`pods`, `nodes`...)."""
    doc = json.loads(data)
    if isinstance(doc, dict):
        if 'items' not in doc:
            return 0
        list_kind = doc.get('kind') or ''
        list_version = doc.get('apiVersion') or ''
        items = doc.get('items') or []
    elif isinstance(doc, list):
        list_kind, list_version, items = '', '', doc
    else:
        return 0
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get('kind') or (list_kind[:-4] if list_kind.endswith('List') else list_kind) or folder
        group = (item.get('apiVersion') or list_version).rpartition('/')[0]
        kinds['%s.%s' % (kind, group) if group else kind] += 1
    return len(items)


def troubleshoot_bundle(path):
    """Counts a troubleshoot support bundle. Links (each log is linked from its collector's
    folder) are not counted as files; a log file is counted once whatever links to it."""
    kinds = Counter()
    logs = Counter()
    errors = files = uncompressed = links = 0
    collector_errors = Counter()
    with tarfile.open(path, 'r:gz') as archive:
        for member in archive:
            if member.issym() or member.islnk():
                links += 1
                continue
            if not member.isfile():
                continue
            files += 1
            uncompressed += member.size
            # Every entry sits under the bundle's root folder.
            name = member.name.split('/', 1)[1] if '/' in member.name else member.name
            if name.startswith(TROUBLESHOOT_LOGS):
                if name.endswith('-logs-errors.log'):
                    errors += 1
                elif name.endswith('.log'):
                    key = 'previous' if name.endswith('-previous.log') else 'current'
                    logs[key if member.size else 'empty'] += 1
            elif name.startswith('cluster-resources/') and name.endswith('.json'):
                if name.endswith('-errors.json'):
                    data = archive.extractfile(member).read()
                    try:
                        n = len(json.loads(data) or [])
                    except ValueError:
                        n = 1
                    if n:
                        collector_errors[name.split('/', 1)[1]] += n
                elif name not in TROUBLESHOOT_NOT_OBJECTS and '/auth-cani-list/' not in '/' + name:
                    folder = name.split('/')[1].removesuffix('.json')
                    count_troubleshoot_objects(archive.extractfile(member).read(), folder, kinds)
            elif name.endswith('-errors.json') and name.count('/') >= 2:
                # A `logs` collector's failed request for one container: COLLECTOR/POD/CONTAINER-errors.json.
                errors += 1
            elif name.endswith('errors.json'):
                collector_errors[name] += 1
    return {
        'tool': 'troubleshoot support-bundle',
        'kinds': dict(sorted(kinds.items())),
        'n_kinds': len(kinds),
        'objects': sum(kinds.values()),
        'logs_current': logs['current'],
        'logs_previous': logs['previous'],
        'logs_empty': logs['empty'],
        'log_errors': errors,
        'events_watched': 0,
        'metric_samples': 0,
        'failures': dict(sorted(collector_errors.items())),
        'complete': None,
        'files': files,
        'links': links,
        'bytes_on_disk': os.path.getsize(path),
        'bytes_uncompressed': uncompressed,
    }


def is_troubleshoot_bundle(path):
    """A troubleshoot bundle has cluster-resources/ under its root folder; a kubesnap bundle
    has resources/ and manifest.json."""
    with tarfile.open(path, 'r:gz') as archive:
        for member in archive:
            parts = member.name.split('/')
            if len(parts) >= 2 and parts[1] == 'cluster-resources':
                return True
            if len(parts) >= 2 and parts[1] in ('manifest.json', 'resources'):
                return False
    return False


def k8sgpt_report(data):
    """`k8sgpt analyze --output json`: {"status", "problems", "results": [{"kind", "name",
    "error": [{"Text"}], ...}]}; "results" is null when it found nothing."""
    doc = json.loads(data)
    results = doc.get('results') or []
    return {
        'tool': 'k8sgpt analyze',
        'status': doc.get('status'),
        'problems': doc.get('problems'),
        'results': len(results),
        'results_by_kind': dict(sorted(Counter(r.get('kind', '?') for r in results).items())),
        'errors': len(doc.get('errors') or []),
    }


def kubesnap_findings(data):
    """kubesnap-analyze's findings.json (docs/findings-schema.md): findings per severity and
    the incident's root causes."""
    doc = json.loads(data)
    findings = doc.get('findings') or []
    return {
        'tool': 'kubesnap-analyze',
        'findings': len(findings),
        'findings_by_severity': dict(sorted(Counter(f.get('severity', '?') for f in findings).items())),
        'root_causes': len((doc.get('incident') or {}).get('root_causes') or []),
    }


def started_containers(root):
    """(namespace/pod, container) of every container that has run, from the dump's pods.json:
    a real kubelet serves logs only for those (kwok serves a file for any container)."""
    started = set()
    for folder, _, names in os.walk(root):
        if 'pods.json' not in names:
            continue
        with open(os.path.join(folder, 'pods.json'), 'rb') as f:
            for pod in json.load(f).get('items') or []:
                key = '%s/%s' % (pod['metadata'].get('namespace'), pod['metadata'].get('name'))
                status = pod.get('status') or {}
                for c in (status.get('initContainerStatuses') or []) + (status.get('containerStatuses') or []):
                    state = c.get('state') or {}
                    if 'running' in state or 'terminated' in state or c.get('restartCount'):
                        started.add((key, c.get('name')))
    return started


def kubectl_dump(root):
    kinds = Counter()
    logs = errors = empty = files = size = not_started = 0
    started = started_containers(root)
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            files += 1
            size += os.path.getsize(path)
            with open(path, 'rb') as f:
                data = f.read()
            if name.endswith('.json'):
                count_list(data, kinds)
            elif name == 'logs.txt':
                # One block per container: count those that hold a log, not an error.
                body = None
                for line in data.split(b'\n'):
                    start = START.match(line)
                    if start:
                        body = []
                        container = (start.group(2).decode(), start.group(1).decode())
                    elif END.match(line) and body is not None:
                        if body and body[0].startswith(DUMP_ERRORS):
                            errors += 1
                        elif any(body):
                            logs += 1
                            not_started += container not in started
                        else:
                            empty += 1
                        body = None
                    elif body is not None:
                        body.append(line)
    return {
        'tool': 'kubectl cluster-info dump',
        'kinds': dict(sorted(kinds.items())),
        'n_kinds': len(kinds),
        'objects': sum(kinds.values()),
        'logs_current': logs,
        # Logs served for containers whose status says they never ran (a kwok artifact: a
        # real kubelet answers "waiting to start" for them).
        'logs_of_containers_not_started': not_started,
        'logs_previous': 0,
        'logs_empty': empty,
        'log_errors': errors,
        'events_watched': 0,
        'metric_samples': 0,
        'failures': {},
        'complete': None,
        'files': files,
        'bytes_on_disk': size,
        'bytes_uncompressed': size,
    }


def main():
    if len(sys.argv) == 3 and sys.argv[1] in ('--k8sgpt', '--kubesnap-findings'):
        with open(sys.argv[2], 'rb') as f:
            data = f.read()
        result = k8sgpt_report(data) if sys.argv[1] == '--k8sgpt' else kubesnap_findings(data)
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write('\n')
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__.rsplit('\n', 1)[-1])
    path = sys.argv[1]
    if os.path.isdir(path):
        result = kubectl_dump(path)
    elif is_troubleshoot_bundle(path):
        result = troubleshoot_bundle(path)
    else:
        result = kubesnap_bundle(path)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
