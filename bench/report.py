#!/usr/bin/env python3
"""Turns the raw runs of bench/run into the Markdown report: medians with min and max, the
ratios against the two decode floors and the targets, growth from the smallest to the largest
bundle, and whether the reference analyzer's and kubesnap's counts per log family agree."""

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
from collections import defaultdict

FAMILIES = [
    'oom_killed', 'image_pull_error', 'dns_resolution', 'connection_refused', 'timeout_error',
    'permission_denied', 'disk_pressure', 'network_unavailable', 'certificate_error',
    'database_error', 'high_cpu', 'high_memory', 'slow_response', 'retry_attempt', 'deprecated_api',
]
TOOLS = ['gzip', 'decode-floor', 'kubesnap-analyze', 'reference-python']
LABELS = {
    'gzip': '`gzip -dc > /dev/null`',
    'decode-floor': '`kubesnap-decode-floor` (zlib-rs)',
    'kubesnap-analyze': '`kubesnap-analyze`',
    'reference-python': "reference `K8sLogAnalyzer` (Python)",
    'kubectl-cluster-info-dump': '`kubectl cluster-info dump`',
    'kubesnap-collect': '`kubesnap-collect`',
}


def command(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def machine(commit):
    cpu = 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    memory = 'unknown'
    try:
        with open('/proc/meminfo') as f:
            kb = int(next(line.split()[1] for line in f if line.startswith('MemTotal')))
            memory = '%.1f GiB' % (kb / 2**20)
    except (OSError, StopIteration, ValueError):
        pass
    load = '%.2f %.2f %.2f' % os.getloadavg()
    return [
        ('CPUs (nproc)', command('nproc')),
        ('CPU', cpu),
        ('memory', memory),
        ('kernel', platform.release()),
        ('load average at the end (1, 5, 15 min)', load),
        ('date (UTC)', command('date', '-u', '+%Y-%m-%d %H:%M')),
        ('commit', commit),
        ('rustc', command('rustc', '--version')),
        ('gzip', command('gzip', '--version').splitlines()[0] if command('gzip', '--version') != 'unknown' else 'unknown'),
        ('python3', platform.python_version()),
    ]


def stats(values):
    return statistics.median(values), min(values), max(values)


def find_family_counts(value):
    """findings.json's `log_families.core` (docs/findings-schema.md), else the first object
    in it that maps the core family codes to counts."""
    core = value.get('log_families', {}).get('core') if isinstance(value, dict) else None
    if isinstance(core, dict) and all(isinstance(core.get(family), int) for family in FAMILIES):
        return {family: core[family] for family in FAMILIES}
    if isinstance(value, dict):
        hits = {k: v for k, v in value.items() if k in FAMILIES}
        if len(hits) >= 10:
            counts = {}
            for family, v in hits.items():
                if isinstance(v, dict):
                    v = v.get('count')
                if isinstance(v, int):
                    counts[family] = v
            if len(counts) == len(hits):
                return counts
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_family_counts(child)
        if found is not None:
            return found
    return None


COLLECTOR_TOOLS = ['kubectl-cluster-info-dump', 'kubesnap-collect', 'kubesnap-collect-tuned',
                   'troubleshoot-support-bundle']
COLLECTOR_LABELS = {
    'kubectl-cluster-info-dump': '`kubectl cluster-info dump --all-namespaces --output-directory DIR`',
    'kubesnap-collect': '`kubesnap-collect --metrics-duration 0` (defaults: concurrency 8, qps 50, burst 100)',
    'kubesnap-collect-tuned': '`kubesnap-collect --metrics-duration 0 --qps 1000 --burst 1000 --concurrency 16`',
    'troubleshoot-support-bundle': "troubleshoot's `support-bundle SPEC --interactive=false -o BUNDLE` (bench/troubleshoot/support-bundle.yaml + a `logs` collector per namespace)",
}
ANALYSIS_TOOLS = ['k8sgpt-analyze', 'kubesnap-analyze']
ANALYSIS_LABELS = {
    'k8sgpt-analyze': '`k8sgpt analyze --explain=false --output json` (the live cluster, every namespace, no AI backend)',
    'kubesnap-analyze': '`kubesnap-analyze BUNDLE -o DIR -q` (the bundle kubesnap collected from the same cluster)',
}

EVENT_KINDS = ('Event', 'Event.events.k8s.io')
COLLECTOR_SHORT = {
    'kubectl-cluster-info-dump': 'kubectl dump',
    'kubesnap-collect': 'kubesnap (defaults)',
    'kubesnap-collect-tuned': 'kubesnap (tuned)',
    'troubleshoot-support-bundle': 'troubleshoot',
}


def condition_title(condition, cluster):
    if condition == 'direct':
        return 'direct (loopback, no added latency)'
    if condition == 'analysis':
        return 'analysis: k8sgpt of the live cluster, kubesnap of its bundle'
    return 'through the latency proxy (+%s ms per round trip)' % cluster.get('rtt_ms', condition)


def collector_section(folder, status):
    """The collector's runs (bench/collector): time and memory per tool and condition, then
    what each captured, and whether kubesnap is faster while capturing strictly more."""
    lines = ['## Collector against the scale control plane', '']
    if not folder or not os.path.exists(os.path.join(folder, 'raw.tsv')):
        return lines + [status + '.', '']
    cluster = {}
    with open(os.path.join(folder, 'cluster.tsv')) as f:
        for line in f:
            key, _, value = line.rstrip('\n').partition('\t')
            cluster[key] = value
    lines += ['| cluster | |', '|---|---|']
    for key in ('pods', 'nodes', 'namespaces', 'scope', 'scenario_seconds', 'date_utc', 'kubectl', 'kubesnap_commit',
                'troubleshoot', 'k8sgpt', 'load_before'):
        if key in cluster:
            lines.append('| %s | %s |' % (key.replace('_', ' '), cluster[key]))
    for key, value in sorted(cluster.items()):
        if key.startswith('memory_'):
            rss, hwm = (int(v) for v in value.split())
            lines.append('| %s RSS (peak) | %.0f MB (%.0f MB) |' % (key[len('memory_'):].replace('_', ' '), rss / 1024, hwm / 1024))
    lines.append('')

    runs = defaultdict(lambda: defaultdict(list))
    failed = defaultdict(lambda: defaultdict(int))
    with open(os.path.join(folder, 'raw.tsv')) as f:
        for row in csv.DictReader(f, delimiter='\t'):
            # kubesnap-collect exits 3 for a bundle written but incomplete: still timed, and
            # flagged below; any other failure is not a measurement.
            if row['exit'] not in ('0', '3'):
                failed[row['condition']][row['tool']] += 1
                continue
            # CPU (user + system) is the steadier figure on a shared machine; raw.tsv files
            # written before it was recorded have no such columns.
            cpu = float(row.get('user_s') or 0) + float(row.get('sys_s') or 0) if row.get('user_s') else None
            runs[row['condition']][row['tool']].append((float(row['seconds']), int(row['max_rss_kb']), cpu))
    loads = defaultdict(list)
    try:
        with open(os.path.join(folder, 'load.tsv')) as f:
            for row in csv.DictReader(f, delimiter='\t'):
                loads[(row['condition'], row['tool'])].append(float(row['load_1m']))
    except OSError:
        pass
    for condition in runs:
        medians = {}
        tools_here = ANALYSIS_TOOLS if condition == 'analysis' else COLLECTOR_TOOLS
        labels = ANALYSIS_LABELS if condition == 'analysis' else COLLECTOR_LABELS
        lines += ['### %s' % condition_title(condition, cluster), '',
                  '| program | runs | wall median | min | max | CPU user+sys median | peak RSS median (min–max) | load (1 min) at the runs\' ends |',
                  '|---|---:|---:|---:|---:|---:|---:|---:|']
        for tool in tools_here:
            samples = runs[condition].get(tool, [])
            if not samples:
                if failed[condition][tool]:
                    lines.append('| %s | 0 | failed %d time(s) | | | | | |' % (labels[tool], failed[condition][tool]))
                continue
            t = stats([s for s, _, _ in samples])
            m = stats([r for _, r, _ in samples])
            cpus = [c for _, _, c in samples if c is not None]
            medians[tool] = t[0]
            note = ' (%d failed run(s) left out)' % failed[condition][tool] if failed[condition][tool] else ''
            load = loads.get((condition, tool))
            lines.append('| %s | %d%s | %.1f s | %.1f s | %.1f s | %s | %.0f MB (%.0f–%.0f) | %s |' % (
                labels[tool], len(samples), note, t[0], t[1], t[2],
                '%.1f s' % statistics.median(cpus) if cpus else '–',
                m[0] / 1024, m[1] / 1024, m[2] / 1024,
                ', '.join('%.1f' % l for l in load) if load else '–'))
        lines.append('')
        if condition == 'analysis':
            lines += analysis_counts(folder)
            continue

        counts = {}
        for tool in COLLECTOR_TOOLS:
            try:
                with open(os.path.join(folder, 'counts-%s-%s.json' % (condition, tool))) as f:
                    counts[tool] = json.load(f)
            except (OSError, ValueError):
                pass
        if counts:
            tools = [t for t in COLLECTOR_TOOLS if t in counts]
            lines += ['What each captured (last run):', '',
                      '| | ' + ' | '.join(COLLECTOR_SHORT[t] for t in tools) + ' |',
                      '|---|' + '---:|' * len(tools)]
            for t in tools:
                counts[t]['events'] = counts[t]['kinds'].get('Event', 0)
            rows = [('objects', 'objects'), ('kinds', 'n_kinds'), ('of which core Events (listed)', 'events'), ('container logs (current)', 'logs_current'),
                    ('container logs (previous)', 'logs_previous'),
                    ('of the current logs: containers that never ran', 'logs_of_containers_not_started'), ('log requests that failed', 'log_errors'),
                    ('events watched during the run', 'events_watched'), ('metric samples', 'metric_samples'),
                    ('files', 'files'), ('links (not counted as files)', 'links'), ('bytes written', 'bytes_on_disk'), ('bytes uncompressed', 'bytes_uncompressed')]
            for label, key in rows:
                cells = []
                for t in tools:
                    value = counts[t].get(key)
                    if value is None:
                        cells.append('–')  # not counted for this tool (kubesnap asks no log of a container that never ran)
                    else:
                        cells.append('%.1f MB' % (value / 1e6) if key.startswith('bytes') else '%s' % value)
                lines.append('| %s | %s |' % (label, ' | '.join(cells)))
            lines.append('')
            dump = counts.get('kubectl-cluster-info-dump')
            if dump:
                for tool in [t for t in tools[1:] if t.startswith('kubesnap')]:
                    ours = counts[tool]
                    # Events are left out of the object-by-object check: the API server deletes
                    # them an hour after they were last seen, so their number depends on when
                    # each tool listed them (runs of a 10,000-pod capture are minutes apart).
                    missing = sorted(k for k, n in dump['kinds'].items()
                                     if k not in EVENT_KINDS and ours['kinds'].get(k, 0) < n)
                    # Logs: kubectl asks for every container, kubesnap for the current run of
                    # every started container plus the previous run of every restarted one.
                    more = (not missing and ours['n_kinds'] > dump['n_kinds']
                            and ours['logs_current'] + ours['logs_previous']
                            >= dump['logs_current'] - dump.get('logs_of_containers_not_started', 0))
                    faster = tool in medians and 'kubectl-cluster-info-dump' in medians and medians[tool] < medians['kubectl-cluster-info-dump']
                    ratio = ('%.2f×' % (medians[tool] / medians['kubectl-cluster-info-dump'])) if tool in medians and 'kubectl-cluster-info-dump' in medians else 'n/a'
                    lines.append('- %s: time %s of kubectl\'s (%s); captures strictly more: %s%s; target (faster and strictly more) %s.' % (
                        COLLECTOR_SHORT[tool],
                        ratio, 'faster' if faster else 'slower', 'yes' if more else 'no',
                        (' (fewer objects of: %s)' % ', '.join(missing)) if missing else '',
                        '**met**' if faster and more else '**missed**'))
                lines.append('')
            other = counts.get('troubleshoot-support-bundle')
            if other:
                lines += against_troubleshoot(counts, medians)
    return lines


def against_troubleshoot(counts, medians):
    """kubesnap's runs against troubleshoot's: time, and the kinds troubleshoot holds more
    objects of (Events apart, as against kubectl)."""
    theirs = counts['troubleshoot-support-bundle']
    lines = []
    for tool in [t for t in counts if t.startswith('kubesnap')]:
        ours = counts[tool]
        missing = sorted(k for k, n in theirs['kinds'].items() if k not in EVENT_KINDS and ours['kinds'].get(k, 0) < n)
        base = medians.get('troubleshoot-support-bundle')
        ratio = '%.2f×' % (medians[tool] / base) if tool in medians and base else 'n/a'
        lines.append("- %s against troubleshoot: time %s of troubleshoot's; objects %d against %d, kinds %d against %d, "
                     'container logs %d + %d previous against %d + %d previous%s.' % (
                         COLLECTOR_SHORT[tool], ratio, ours['objects'], theirs['objects'], ours['n_kinds'], theirs['n_kinds'],
                         ours['logs_current'], ours['logs_previous'], theirs['logs_current'], theirs['logs_previous'],
                         ('; troubleshoot holds more objects of: %s' % ', '.join(missing)) if missing else
                         '; of every kind troubleshoot holds (Events apart), at least as many objects'))
    lines.append('')
    return lines


def analysis_counts(folder):
    """What each analysis reported (counts-analysis-*.json of bench/collector)."""
    counts = {}
    for tool in ANALYSIS_TOOLS:
        try:
            with open(os.path.join(folder, 'counts-analysis-%s.json' % tool)) as f:
                counts[tool] = json.load(f)
        except (OSError, ValueError):
            pass
    lines = []
    gpt = counts.get('k8sgpt-analyze')
    if gpt:
        lines.append('- k8sgpt (last run): %d results (%s), status %s.' % (
            gpt['results'], ', '.join('%s %d' % kv for kv in gpt['results_by_kind'].items()) or 'none', gpt.get('status')))
    ours = counts.get('kubesnap-analyze')
    if ours:
        lines.append('- kubesnap-analyze (last run): %d findings (%s), %d root causes in the incident summary.' % (
            ours['findings'], ', '.join('%s %d' % kv for kv in ours['findings_by_severity'].items()) or 'none', ours['root_causes']))
    return lines + ([''] if lines else [])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--raw')
    parser.add_argument('--generation')
    parser.add_argument('--out')
    parser.add_argument('--analyzer-status')
    parser.add_argument('--collector-status', default='ran')
    parser.add_argument('--commit', default='unknown')
    parser.add_argument('--collector-dir', help='the folder bench/collector wrote')
    args = parser.parse_args()
    if not args.raw:
        # `bench/report.py --collector-dir DIR`: the collector's section alone.
        if not args.collector_dir:
            parser.error('give --raw, --generation, --out and --analyzer-status (bench/run), or --collector-dir DIR')
        print('\n'.join(collector_section(args.collector_dir, args.collector_status)))
        return
    if not (args.generation and args.out and args.analyzer_status):
        parser.error('--raw needs --generation, --out and --analyzer-status')

    runs = defaultdict(lambda: defaultdict(list))
    with open(args.raw) as f:
        for row in csv.DictReader(f, delimiter='\t'):
            runs[row['bundle']][row['tool']].append((float(row['seconds']), int(row['max_rss_kb'])))
    with open(args.generation) as f:
        bundles = list(csv.DictReader(f, delimiter='\t'))

    lines = ['# kubesnap benchmarks', '']
    lines += ['| machine | |', '|---|---|'] + ['| %s | %s |' % pair for pair in machine(args.commit)] + ['']
    lines += ['kubesnap-analyze: ' + args.analyzer_status + '.', '']

    lines += ['## Generated bundles', '',
              '| bundle | pods | logs | compressed | uncompressed | generation time | generation peak RSS |',
              '|---|---:|---:|---:|---:|---:|---:|']
    for b in bundles:
        seconds = b['seconds'] if b['seconds'] == '-' else '%.1f s (%.0f MB/s uncompressed)' % (float(b['seconds']), int(b['uncompressed_bytes']) / 1e6 / max(float(b['seconds']), 1e-9))
        rss = b['max_rss_kb'] if b['max_rss_kb'] == '-' else '%.0f MB' % (int(b['max_rss_kb']) / 1024)
        lines.append('| %s | %s | %s | %.1f MB | %.1f MB | %s | %s |' % (
            b['bundle'], b['pods'], b['log_bytes'], int(b['compressed_bytes']) / 1e6,
            int(b['uncompressed_bytes']) / 1e6, seconds, rss))
    lines.append('')

    medians = {}
    for b in bundles:
        name = b['bundle']
        size = int(b['uncompressed_bytes'])
        lines += ['## %s' % name, '',
                  '| program | runs | wall median | min | max | throughput (uncompressed) | peak RSS median (min–max) |',
                  '|---|---:|---:|---:|---:|---:|---:|']
        for tool in TOOLS:
            samples = runs[name].get(tool)
            if not samples:
                reason = args.analyzer_status if tool == 'kubesnap-analyze' else 'not run'
                lines.append('| %s | 0 | %s | | | | |' % (LABELS[tool], reason))
                continue
            t = stats([s for s, _ in samples])
            m = stats([r for _, r in samples])
            medians[(name, tool)] = (t[0], m[0])
            lines.append('| %s | %d | %.2f s | %.2f s | %.2f s | %.0f MB/s | %.0f MB (%.0f–%.0f) |' % (
                LABELS[tool], len(samples), t[0], t[1], t[2], size / 1e6 / max(t[0], 1e-9),
                m[0] / 1024, m[1] / 1024, m[2] / 1024))
        lines.append('')
        gzip = medians.get((name, 'gzip'))
        floor = medians.get((name, 'decode-floor'))
        analyze = medians.get((name, 'kubesnap-analyze'))
        reference = medians.get((name, 'reference-python'))
        lines += ['| ratio (medians) | value | target | met |', '|---|---:|---:|---|']
        if gzip and floor:
            lines.append('| gzip / decode floor | %.2f× | (about 4× on a quiet machine) | |' % (gzip[0] / floor[0]))
        if analyze and gzip:
            ratio = analyze[0] / gzip[0]
            lines.append('| analyzer / gzip | %.2f× | < 0.5× | %s |' % (ratio, 'yes' if ratio < 0.5 else 'no'))
        if analyze and floor:
            ratio = analyze[0] / floor[0]
            lines.append('| analyzer / decode floor | %.2f× | ≤ 1.6× | %s |' % (ratio, 'yes' if ratio <= 1.6 else 'no'))
        if analyze:
            lines.append('| analyzer peak RSS | %.0f MB | < 1,024 MB | %s |' % (analyze[1] / 1024, 'yes' if analyze[1] < 1024 * 1024 else 'no'))
        if analyze and reference:
            lines.append("| reference Python analysis / analyzer | %.1f× | | |" % (reference[0] / analyze[0]))
        if reference and floor:
            lines.append("| reference Python analysis / decode floor | %.1f× | | |" % (reference[0] / floor[0]))
        if not analyze:
            lines.append('| analyzer ratios | not measured | | %s |' % args.analyzer_status)
        lines.append('')

        reference_file = os.path.join(args.out, 'reference-%s.json' % name)
        findings_file = os.path.join(args.out, 'analysis-%s' % name, 'findings.json')
        reference_counts = None
        try:
            with open(reference_file) as f:
                reference_json = json.load(f)
            reference_counts = reference_json['families']
        except (OSError, ValueError, KeyError):
            # Not run, or a run that failed or was stopped: no counts to show.
            reference_counts = None
        ours = None
        ours_status = 'not measured: ' + args.analyzer_status
        if os.path.exists(findings_file):
            try:
                with open(findings_file) as f:
                    ours = find_family_counts(json.load(f))
                ours_status = 'findings.json holds no counts per log family' if ours is None else ''
            except (OSError, ValueError):
                ours_status = 'findings.json could not be read'
        if reference_counts:
            lines += ['Log families over %d lines of %d container logs:' % (reference_json['lines'], reference_json['logs']), '',
                      "| family | reference analysis | kubesnap | agree |", '|---|---:|---:|---|']
            for family in FAMILIES:
                theirs = reference_counts.get(family, 0)
                mine = ours.get(family) if ours else None
                agree = '' if mine is None else ('yes' if mine == theirs else 'NO')
                lines.append('| %s | %d | %s | %s |' % (family, theirs, '' if mine is None else mine, agree))
            if ours is None:
                lines.append('| (kubesnap) | | %s | |' % ours_status)
            lines.append('')

    names = [b['bundle'] for b in bundles]
    if len(names) >= 2:
        small, large = names[0], names[-1]
        lines += ['## Growth from %s to %s' % (small, large), '',
                  '| program | time × | peak RSS × |', '|---|---:|---:|']
        for tool in TOOLS:
            a, b = medians.get((small, tool)), medians.get((large, tool))
            if a and b:
                lines.append('| %s | %.1f× | %.1f× |' % (LABELS[tool], b[0] / a[0], b[1] / a[1]))
        lines.append('')

    lines += collector_section(args.collector_dir, args.collector_status)
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
