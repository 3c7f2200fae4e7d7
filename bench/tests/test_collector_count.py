"""Unit tests of bench/collector_count.py on small hand-made outputs (no cluster needed).

Run: python3 -m unittest discover -s bench/tests (cargo test -p kubesnap-bench runs it too)."""

import importlib.util
import io
import json
import os
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location('collector_count', os.path.join(HERE, '..', 'collector_count.py'))
collector_count = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(collector_count)


def tarball(path, entries):
    """entries: (name, bytes) for a file, (name, '->', target) for a symbolic link."""
    with tarfile.open(path, 'w:gz') as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry[0])
            if len(entry) == 3:
                info.type = tarfile.SYMTYPE
                info.linkname = entry[2]
                archive.addfile(info)
            else:
                info.size = len(entry[1])
                archive.addfile(info, io.BytesIO(entry[1]))


def js(value):
    return json.dumps(value).encode()


ROOT = 'support-bundle-2026-12-05T08_00_00/'
TROUBLESHOOT = [
    (ROOT + 'version.yaml', b'apiVersion: troubleshoot.sh/v1beta2\n'),
    (ROOT + 'cluster-info/cluster_version.json', js({'info': {'major': '1'}})),
    # Typed Lists: the items carry their kind (pods), or only the List does (nodes), or the
    # List has no kind either (the folder names it).
    (ROOT + 'cluster-resources/pods/scale-00.json', js({
        'kind': 'PodList', 'apiVersion': 'v1',
        'items': [{'kind': 'Pod', 'apiVersion': 'v1'}, {'kind': 'Pod', 'apiVersion': 'v1'}]})),
    (ROOT + 'cluster-resources/nodes.json', js({'kind': 'NodeList', 'apiVersion': 'v1', 'items': [{}, {}, {}]})),
    (ROOT + 'cluster-resources/deployments/scale-00.json', js({'items': [{}]})),
    (ROOT + 'cluster-resources/custom-resources/stages.kwok.x-k8s.io.json', js([
        {'kind': 'Stage', 'apiVersion': 'kwok.x-k8s.io/v1alpha1'}])),
    (ROOT + 'cluster-resources/custom-resources/stages.kwok.x-k8s.io.yaml', '->', 'stages.kwok.x-k8s.io.json'),
    # Not objects: discovery, permission reviews, error lists.
    (ROOT + 'cluster-resources/groups.json', js([{'name': 'apps'}])),
    (ROOT + 'cluster-resources/resources.json', js([{'kind': 'APIResourceList'}])),
    (ROOT + 'cluster-resources/auth-cani-list/scale-00.json', js({'items': [{'kind': 'x'}]})),
    (ROOT + 'cluster-resources/pods-errors.json', js(['pods is forbidden'])),
    (ROOT + 'cluster-resources/nodes-errors.json', b'null'),
    # Logs: current, previous, empty, and the two ways a failed request is recorded.
    (ROOT + 'cluster-resources/pods/logs/scale-00/web-1/app.log', b'started\n'),
    (ROOT + 'cluster-resources/pods/logs/scale-00/web-1/app-previous.log', b'panic\n'),
    (ROOT + 'cluster-resources/pods/logs/scale-00/web-2/app.log', b''),
    (ROOT + 'cluster-resources/pods/logs/scale-00/pull-1/app-logs-errors.log', b'container is waiting'),
    (ROOT + 'scale-00/web-1/app.log', '->', '../../cluster-resources/pods/logs/scale-00/web-1/app.log'),
    (ROOT + 'scale-00/web-3/app-errors.json', js(['context deadline exceeded'])),
    (ROOT + 'scale-00/errors.json', js(['cannot list pods'])),
]


class TroubleshootBundle(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, 'bundle.tar.gz')
        tarball(self.path, TROUBLESHOOT)

    def tearDown(self):
        self.tmp.cleanup()

    def test_is_recognised(self):
        self.assertTrue(collector_count.is_troubleshoot_bundle(self.path))

    def test_objects_and_kinds(self):
        counts = collector_count.troubleshoot_bundle(self.path)
        self.assertEqual(counts['kinds'], {'Node': 3, 'Pod': 2, 'Stage.kwok.x-k8s.io': 1, 'deployments': 1})
        self.assertEqual(counts['objects'], 7)
        self.assertEqual(counts['n_kinds'], 4)

    def test_logs_errors_links(self):
        counts = collector_count.troubleshoot_bundle(self.path)
        self.assertEqual((counts['logs_current'], counts['logs_previous'], counts['logs_empty']), (1, 1, 1))
        self.assertEqual(counts['log_errors'], 2)
        self.assertEqual(counts['links'], 2)
        self.assertEqual(counts['files'], len(TROUBLESHOOT) - 2)
        self.assertEqual(counts['failures'], {'pods-errors.json': 1, 'scale-00/errors.json': 1})
        self.assertEqual(counts['tool'], 'troubleshoot support-bundle')


class KubesnapBundleIsNotTroubleshoot(unittest.TestCase):
    def test_kubesnap_bundle(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bundle.tar.gz')
            tarball(path, [
                ('kubesnap-bundle/manifest.json', js({'failures': [{'what': 'logs'}], 'complete': True})),
                ('kubesnap-bundle/resources/v1/pods.json', js({'kind': 'PodList', 'apiVersion': 'v1', 'items': [{}]})),
                ('kubesnap-bundle/logs/ns/pod/app.log', b'x\n'),
            ])
            self.assertFalse(collector_count.is_troubleshoot_bundle(path))
            counts = collector_count.kubesnap_bundle(path)
            self.assertEqual((counts['objects'], counts['logs_current'], counts['log_errors']), (1, 1, 1))


class Analyses(unittest.TestCase):
    def test_k8sgpt(self):
        counts = collector_count.k8sgpt_report(js({
            'provider': '', 'errors': None, 'status': 'ProblemDetected', 'problems': 3,
            'results': [{'kind': 'Pod', 'name': 'a/b', 'error': [{'Text': 'x'}]},
                        {'kind': 'Pod', 'name': 'a/c'}, {'kind': 'Service', 'name': 'a/s'}]}))
        self.assertEqual((counts['results'], counts['problems']), (3, 3))
        self.assertEqual(counts['results_by_kind'], {'Pod': 2, 'Service': 1})
        nothing = collector_count.k8sgpt_report(js({'status': 'OK', 'problems': 0, 'results': None}))
        self.assertEqual(nothing['results'], 0)

    def test_kubesnap_findings(self):
        counts = collector_count.kubesnap_findings(js({
            'findings': [{'severity': 'P0'}, {'severity': 'P2'}, {'severity': 'P2'}],
            'incident': {'root_causes': [{}, {}]}}))
        self.assertEqual(counts['findings'], 3)
        self.assertEqual(counts['findings_by_severity'], {'P0': 1, 'P2': 2})
        self.assertEqual(counts['root_causes'], 2)


if __name__ == '__main__':
    unittest.main()
