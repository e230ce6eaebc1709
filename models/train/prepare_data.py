#!/usr/bin/env python3
"""Collects the training and held-out corpus and writes the data manifest.

Sources (all offline, all permissively licensed):
  - this repository's own TypeScript/JavaScript, read from git at one commit (MIT, see LICENSE);
  - TypeScript/JavaScript shipped in installed npm packages (node_modules, pinned by package-lock.json) whose
    package.json `license` is in ALLOWED_LICENCES.

Filters: no declaration files (.d.ts), no minified or bundled files (long lines), no huge files, a per-package
byte cap, exact and near-duplicate removal (a file whose non-trivial lines were mostly seen already is dropped).
Held-out packages are indexed first, so training files that duplicate them are dropped too.

  collect:    prepare_data.py --collect  --manifest models/train/data-manifest.json --out .models/train
  reproduce:  prepare_data.py --from-manifest models/train/data-manifest.json --out .models/train
(--from-manifest reads exactly the files the manifest lists and checks their sha256.)
Writes OUT/train.jsonl and OUT/heldout.jsonl, one {"path", "text"} per line.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

ALLOWED_LICENCES = {
    'MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', '(BSD-2-Clause OR MIT OR Apache-2.0)',
}
# Whole packages never trained on; the quality report (bench/model.ts) samples from these.
HELDOUT_PACKAGES = ['commander', 'jsonc-parser', '@huggingface/jinja']
# Packages skipped on purpose: this project's own bundled outputs and huge generated bundles.
SKIP_PACKAGES = {'typescript', 'playwright-core'}

SOURCE_RE = re.compile(r'\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$')
DECL_RE = re.compile(r'\.d\.(ts|mts|cts)$')
MAX_FILE_BYTES = 120_000
MIN_FILE_BYTES = 200
MAX_LINE = 400          # any longer line: minified / bundled / generated data
MAX_MEAN_LINE = 90
PACKAGE_CAP = 400_000   # bytes per package (diversity)
NEAR_DUP = 0.6          # drop a file when this share of its non-trivial lines were seen before
HELDOUT_LEAK = 0.2      # drop a training file when this share of its non-trivial lines occur in a held-out file


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def file_ok(path: str, text: str):
    if DECL_RE.search(path):
        return 'declaration'
    if '.min.' in path or '/min/' in path:
        return 'minified'
    n = len(text.encode('utf-8'))
    if n > MAX_FILE_BYTES:
        return 'too_big'
    if n < MIN_FILE_BYTES:
        return 'too_small'
    lines = text.split('\n')
    if max(len(l) for l in lines) > MAX_LINE or n / max(1, len(lines)) > MAX_MEAN_LINE:
        return 'long_lines'
    if text.startswith('//# sourceMappingURL') or 'sourceMappingURL=data:' in text:
        return 'generated'
    return None


class LineIndex:
    """Near-duplicate detection on hashed non-trivial lines."""

    def __init__(self):
        self.seen = set()

    @staticmethod
    def keys(text: str):
        return {hash(l.strip()) for l in text.split('\n') if len(l.strip()) >= 24}

    def share_seen(self, text: str) -> float:
        k = self.keys(text)
        return sum(1 for x in k if x in self.seen) / len(k) if k else 0.0

    def is_dup(self, text: str) -> bool:
        return self.share_seen(text) >= NEAR_DUP

    def add(self, text: str):
        self.seen |= self.keys(text)


def locked_packages():
    """{node_modules/... dir: version} from package-lock.json: only packages a fresh `npm ci` installs are used."""
    with open('package-lock.json', encoding='utf-8') as f:
        lock = json.load(f)
    return {k: v.get('version') for k, v in lock.get('packages', {}).items() if k.startswith('node_modules/')}


def list_packages(root: str):
    """(dir, name, version, licence) for every installed package pinned by package-lock.json, sorted by dir."""
    locked = locked_packages()
    out = []
    for dp, dns, fns in os.walk(root):
        dns.sort()
        if 'package.json' not in fns:
            continue
        rel = dp[len(root) + 1:]
        last = rel.split('/node_modules/')[-1]
        if last.count('/') > (1 if last.startswith('@') else 0):
            continue
        try:
            with open(os.path.join(dp, 'package.json'), encoding='utf-8') as f:
                j = json.load(f)
        except (OSError, ValueError):
            continue
        if not isinstance(j, dict) or 'name' not in j or 'version' not in j or locked.get(dp) != j['version']:
            continue
        lic = j.get('license')
        out.append((dp, j['name'], j['version'], lic if isinstance(lic, str) else json.dumps(lic)))
    return sorted(out)


def package_files(pdir: str):
    files = []
    for dp, dns, fns in os.walk(pdir):
        dns[:] = sorted(d for d in dns if d != 'node_modules' and not d.startswith('.'))
        for f in sorted(fns):
            if SOURCE_RE.search(f):
                files.append(os.path.join(dp, f))
    # TypeScript sources first, so that compiled JS copies of them are the near-duplicates that get dropped
    return sorted(files, key=lambda p: (0 if re.search(r'\.(ts|mts|cts|tsx)$', p) else 1, p))


def repo_files(commit: str):
    names = subprocess.run(['git', 'ls-tree', '-r', '--name-only', commit], check=True, capture_output=True, text=True).stdout.split('\n')
    out = []
    for p in sorted(n for n in names if SOURCE_RE.search(n) and not p_excluded(n)):
        data = subprocess.run(['git', 'show', f'{commit}:{p}'], check=True, capture_output=True).stdout
        out.append((p, data))
    return out


def p_excluded(p: str) -> bool:
    return p.startswith('node_modules/') or p.startswith('models/') or p.startswith('dist/') or p.startswith('out/')


def collect(args):
    commit = subprocess.run(['git', 'rev-parse', args.commit], check=True, capture_output=True, text=True).stdout.strip()
    skipped = {}
    index = LineIndex()
    held_index = LineIndex()  # the held-out files' lines alone: a stricter bar for training files (no eval leakage)
    hashes = set()
    package_cap = args.package_cap if args.package_cap > 0 else None
    skip_packages = SKIP_PACKAGES - set(args.include_package)

    def consider(path, data: bytes, cap_left, train=True):
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            return 'not_utf8', None
        text = text.replace('\r\n', '\n')
        why = file_ok(path, text)
        if why:
            return why, None
        h = sha256(data)
        if h in hashes:
            return 'duplicate', None
        if train and held_index.share_seen(text) >= HELDOUT_LEAK:
            return 'heldout_overlap', None
        if index.is_dup(text):
            return 'near_duplicate', None
        if cap_left is not None and len(data) > cap_left:
            return 'package_cap', None
        hashes.add(h)
        index.add(text)
        return None, {'path': path, 'bytes': len(data), 'sha256': h, 'text': text}

    def skip(why):
        skipped[why] = skipped.get(why, 0) + 1

    packages = list_packages('node_modules')
    by_name = {}
    for p in packages:
        by_name.setdefault(p[1], []).append(p)

    heldout = []
    for name in HELDOUT_PACKAGES:
        for pdir, pname, ver, lic in by_name.get(name, []):
            assert lic in ALLOWED_LICENCES, (name, lic)
            files = []
            for fp in package_files(pdir):
                with open(fp, 'rb') as f:
                    why, rec = consider(fp, f.read(), None, train=False)
                if why:
                    skip(why)
                else:
                    files.append(rec)
                    held_index.add(rec['text'])
            if files:
                heldout.append({'name': pname, 'version': ver, 'licence': lic, 'dir': pdir, 'files': files})

    train_groups = []
    # the repository's own source (MIT)
    files = []
    for p, data in repo_files(commit):
        why, rec = consider(p, data, None)
        if why:
            skip(why)
        else:
            files.append(rec)
    train_groups.append({'name': 'hearth (this repository)', 'version': commit, 'licence': 'MIT', 'dir': '.', 'git_commit': commit, 'files': files})

    for pdir, pname, ver, lic in packages:
        if pname in HELDOUT_PACKAGES or pname in skip_packages:
            continue
        if lic not in ALLOWED_LICENCES:
            skip('licence')
            continue
        files, used = [], 0
        for fp in package_files(pdir):
            with open(fp, 'rb') as f:
                why, rec = consider(fp, f.read(), None if package_cap is None else package_cap - used)
            if why:
                skip(why)
            else:
                files.append(rec)
                used += rec['bytes']
        if files:
            train_groups.append({'name': pname, 'version': ver, 'licence': lic, 'dir': pdir, 'files': files})

    manifest = {
        'description': 'Training and held-out data of hearth-code-tiny (models/train). Paths are relative to the repository root; '
                       'files of the repository itself are read from git at git_commit.',
        'allowed_licences': sorted(ALLOWED_LICENCES),
        'filters': {'max_file_bytes': MAX_FILE_BYTES, 'min_file_bytes': MIN_FILE_BYTES, 'max_line': MAX_LINE,
                    'max_mean_line': MAX_MEAN_LINE, 'package_cap_bytes': package_cap, 'near_duplicate_share': NEAR_DUP,
                    'heldout_overlap_share': HELDOUT_LEAK, 'heldout_packages': HELDOUT_PACKAGES,
                    'skipped_packages': sorted(skip_packages), 'declaration_files': 'skipped'},
        'skipped_files': dict(sorted(skipped.items())),
        'train': strip_text(train_groups),
        'heldout': strip_text(heldout),
    }
    manifest['totals'] = totals(manifest)
    with open(args.manifest, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    write_corpus(args.out, train_groups, heldout)
    print(json.dumps(manifest['totals']))


def strip_text(groups):
    return [{**{k: v for k, v in g.items() if k != 'files'}, 'bytes': sum(x['bytes'] for x in g['files']),
             'files': [{k: v for k, v in x.items() if k != 'text'} for x in g['files']]} for g in groups]


def totals(m):
    t = {}
    for split in ('train', 'heldout'):
        t[split] = {'packages': len(m[split]), 'files': sum(len(g['files']) for g in m[split]),
                    'bytes': sum(g['bytes'] for g in m[split])}
    return t


def write_corpus(out, train_groups, heldout):
    os.makedirs(out, exist_ok=True)
    for name, groups in (('train', train_groups), ('heldout', heldout)):
        with open(os.path.join(out, f'{name}.jsonl'), 'w', encoding='utf-8') as f:
            for g in groups:
                for x in g['files']:
                    f.write(json.dumps({'path': x['path'], 'text': x['text']}) + '\n')


def from_manifest(args):
    with open(args.from_manifest, encoding='utf-8') as f:
        m = json.load(f)
    bad = 0
    groups = {}
    for split in ('train', 'heldout'):
        groups[split] = []
        for g in m[split]:
            files = []
            for x in g['files']:
                if 'git_commit' in g:
                    data = subprocess.run(['git', 'show', f"{g['git_commit']}:{x['path']}"], check=True, capture_output=True).stdout
                else:
                    with open(x['path'], 'rb') as fh:
                        data = fh.read()
                if sha256(data) != x['sha256']:
                    bad += 1
                    print(f'sha256 mismatch: {x["path"]}', file=sys.stderr)
                files.append({**x, 'text': data.decode('utf-8').replace('\r\n', '\n')})
            groups[split].append({**g, 'files': files})
    if bad and not args.allow_mismatch:
        sys.exit(f'{bad} files differ from the manifest (npm ci with the committed package-lock.json?); --allow-mismatch to go on')
    write_corpus(args.out, groups['train'], groups['heldout'])
    print(json.dumps(m['totals']))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--collect', action='store_true')
    ap.add_argument('--from-manifest')
    ap.add_argument('--manifest', default='models/train/data-manifest.json')
    ap.add_argument('--commit', default='HEAD')
    ap.add_argument('--out', default='.models/train')
    ap.add_argument('--allow-mismatch', action='store_true')
    ap.add_argument('--package-cap', type=int, default=PACKAGE_CAP, help='bytes per package (0: no cap)')
    ap.add_argument('--include-package', action='append', default=[], help='train on a package skipped by default')
    args = ap.parse_args()
    if args.from_manifest:
        from_manifest(args)
    elif args.collect:
        collect(args)
    else:
        ap.error('--collect or --from-manifest')


if __name__ == '__main__':
    main()
