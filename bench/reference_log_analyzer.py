#!/usr/bin/env python3
"""The reference log analysis (`K8sLogAnalyzer`), run over the container logs of a kubesnap bundle.

This is the `K8sLogAnalyzer` of the Production Troubleshooting Guide ("Pattern 4: Log
Aggregation and Analysis"), kept as written there: the same `error_patterns` and `warning_patterns`, the
same `_extract_timestamp` and `_extract_log_level`, and the same `analyze_error_patterns` loop
(one `re.search(pattern, message.lower(), re.IGNORECASE)` per family and line). Only the input
changes: instead of `kubectl logs` per pod and container, `collect_logs` reads every
`logs/<namespace>/<pod>/<container>[.previous].log` entry of the bundle, streaming the archive
with `tarfile` (mode `r|*`), and builds the same per-line dicts from each entry's text exactly
as the guide splits `kubectl logs` output (`stdout.strip().split('\\n')`, blank lines skipped).

One deliberate difference: the guide's analyzer collects every line of every pod into one list before
analysing it, which for gigabytes of logs would need tens of gigabytes of memory. Here each
container log is collected and analysed in turn and the summaries are merged, which gives the
same counts (the analysis is a per-line loop) in memory bounded by the largest log.

Usage: reference_log_analyzer.py BUNDLE.tar.gz   -> JSON on stdout: counts per family, lines, time.
"""

import json
import re
import sys
import tarfile
import time
from collections import defaultdict
from typing import Dict, List, Optional


class K8sLogAnalyzer:
    def __init__(self):
        self.error_patterns = {
            'oom_killed': r'(OOMKilled|out of memory|memory limit exceeded)',
            'image_pull_error': r'(ImagePullBackOff|ErrImagePull|Failed to pull image)',
            'dns_resolution': r'(no such host|DNS resolution failed|dial tcp.*no route to host)',
            'connection_refused': r'(connection refused|connect: connection refused)',
            'timeout_error': r'(timeout|timed out|deadline exceeded)',
            'permission_denied': r'(permission denied|access denied|unauthorized)',
            'disk_pressure': r'(disk pressure|no space left on device|disk full)',
            'network_unavailable': r'(network is unreachable|no route to host)',
            'certificate_error': r'(certificate|x509|tls|ssl.*error)',
            'database_error': r'(database.*error|sql.*error|connection.*database.*failed)'
        }

        self.warning_patterns = {
            'high_cpu': r'(cpu.*throttl|cpu.*limit|high cpu)',
            'high_memory': r'(memory.*pressure|high memory usage)',
            'slow_response': r'(slow.*response|request.*timeout|response time)',
            'retry_attempt': r'(retry|retrying|attempt.*failed)',
            'deprecated_api': r'(deprecated|will be removed|obsolete)'
        }

    def collect_logs(self, namespace: str, pod: str, container: str, stdout: str) -> List[Dict]:
        """The guide's per-container loop, over the text `kubectl logs` would have printed."""
        logs = []
        if stdout.strip():
            for line_num, line in enumerate(stdout.strip().split('\n'), 1):
                if line.strip():
                    logs.append({
                        'namespace': namespace,
                        'pod': pod,
                        'container': container,
                        'line_number': line_num,
                        'timestamp': self._extract_timestamp(line),
                        'level': self._extract_log_level(line),
                        'message': line,
                        'raw_message': line
                    })
        return logs

    def _extract_timestamp(self, log_line: str) -> Optional[str]:
        """Extract timestamp from log line"""
        # Common timestamp patterns
        patterns = [
            r'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?)',
            r'(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})',
            r'(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})',
        ]

        for pattern in patterns:
            match = re.search(pattern, log_line)
            if match:
                return match.group(1)

        return None

    def _extract_log_level(self, log_line: str) -> str:
        """Extract log level from log line"""
        levels = ['ERROR', 'WARN', 'WARNING', 'INFO', 'DEBUG', 'TRACE', 'FATAL']
        line_upper = log_line.upper()

        for level in levels:
            if level in line_upper:
                return level

        return 'UNKNOWN'

    def analyze_error_patterns(self, logs: List[Dict]) -> Dict:
        """Analyze logs for error patterns"""
        analysis = {
            'error_summary': defaultdict(int),
            'warning_summary': defaultdict(int),
            'error_details': defaultdict(list),
            'pod_error_count': defaultdict(int),
            'timeline_analysis': defaultdict(list)
        }

        for log_entry in logs:
            message = log_entry['message'].lower()
            pod = log_entry['pod']
            timestamp = log_entry['timestamp']

            # Check for error patterns
            for error_type, pattern in self.error_patterns.items():
                if re.search(pattern, message, re.IGNORECASE):
                    analysis['error_summary'][error_type] += 1
                    analysis['pod_error_count'][pod] += 1
                    analysis['error_details'][error_type].append({
                        'pod': pod,
                        'container': log_entry['container'],
                        'timestamp': timestamp,
                        'message': log_entry['message'][:200] + '...' if len(log_entry['message']) > 200 else log_entry['message']
                    })

                    if timestamp:
                        analysis['timeline_analysis'][error_type].append({
                            'timestamp': timestamp,
                            'pod': pod
                        })

            # Check for warning patterns
            for warning_type, pattern in self.warning_patterns.items():
                if re.search(pattern, message, re.IGNORECASE):
                    analysis['warning_summary'][warning_type] += 1

        return analysis


def container_logs(bundle_path):
    """Yields (namespace, pod, container, text) for every log entry, streaming the archive."""
    with tarfile.open(bundle_path, mode='r|*') as archive:
        for member in archive:
            if not member.isfile():
                continue
            parts = member.name.split('/')
            # <root>/logs/<namespace>/<pod>/<container>[.previous].log
            if len(parts) != 5 or parts[1] != 'logs' or not parts[4].endswith('.log'):
                continue
            data = archive.extractfile(member).read()
            # `kubectl logs` output as the guide's subprocess.run(text=True) decodes it.
            text = data.decode('utf-8', errors='replace')
            yield parts[2], parts[3], parts[4][:-len('.log')], text


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    started = time.monotonic()
    analyzer = K8sLogAnalyzer()
    errors = defaultdict(int)
    warnings = defaultdict(int)
    details = defaultdict(int)
    n_logs = 0
    n_lines = 0
    for namespace, pod, container, text in container_logs(sys.argv[1]):
        logs = analyzer.collect_logs(namespace, pod, container, text)
        analysis = analyzer.analyze_error_patterns(logs)
        n_logs += 1
        n_lines += len(logs)
        for family, count in analysis['error_summary'].items():
            errors[family] += count
        for family, count in analysis['warning_summary'].items():
            warnings[family] += count
        for family, entries in analysis['error_details'].items():
            details[family] += len(entries)
    elapsed = time.monotonic() - started
    families = {family: errors.get(family, 0) for family in analyzer.error_patterns}
    families.update({family: warnings.get(family, 0) for family in analyzer.warning_patterns})
    print(json.dumps({
        'tool': 'reference K8sLogAnalyzer.analyze_error_patterns (Python %d.%d)' % sys.version_info[:2],
        'logs': n_logs,
        'lines': n_lines,
        'families': families,
        'seconds': round(elapsed, 3),
    }, indent=2, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
