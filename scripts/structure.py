#!/usr/bin/env python3
"""The house rules of the tree, checked (run from the repository root).

Outside tests (files under tests/, conformance/ and #[cfg(test)] modules):
  - functions over FN_MAX lines (100) and files over FILE_MAX lines (600);
  - calls of `.store()` in quan-http and quan-web (they reach the store only
    through the engine);
  - two modules of one crate that import each other (a parent and its own
    child modules excepted: that is how a module is split into files).
Usage: scripts/structure.py [--enforce KIND,...] where KIND is fn, file,
store or cycle (default: all). Prints every finding; exits 1 when an
enforced kind has any.
"""
import os
import re
import sys

FN_MAX, FILE_MAX = 100, 600
FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+([A-Za-z_0-9]+)')
PATH = re.compile(r'\b(crate|super)((?:::[a-z_][a-z_0-9]*)+)')


def code(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return line.split('//')[0]


def non_test_lines(lines):
    """(index, line) outside #[cfg(test)] blocks."""
    depth, skip, pending = 0, None, False
    for i, l in enumerate(lines):
        s = code(l)
        if skip is None and re.match(r'\s*#\[cfg\(test\)\]', l):
            pending = True
        if pending and '{' in s:
            skip, pending = depth, False
        depth += s.count('{') - s.count('}')
        if skip is not None:
            if depth <= skip:
                skip = None
            continue
        if not pending:
            yield i, l


def fn_lengths(lines, kept):
    for i, l in kept.items():
        m = FN.match(l)
        if not m:
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            s = code(lines[j])
            for ch in s:
                if ch == '{':
                    depth += 1
                    started = True
                elif ch == '}':
                    depth -= 1
            if (started and depth <= 0) or (not started and ';' in s):
                break
            j += 1
        if started:
            yield j - i + 1, i, m.group(6)


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ('mod', 'lib', 'main'):
        rel = rel[:-1]
    return tuple(rel)


def referenced(mod, modules, text):
    """The modules of its crate that `mod` names by path."""
    out = set()
    for kind, rest in PATH.findall(text):
        parts = rest.strip(':').split('::')
        base = []
        if kind == 'super':
            ups = 1
            while parts and parts[0] == 'super':
                parts.pop(0)
                ups += 1
            base = list(mod)[: max(0, len(mod) - ups)]
        full = tuple(base + parts)
        while full and full not in modules:
            full = full[:-1]
        if full and full != mod:
            out.add(full)
    return out


def main():
    enforce = {'fn', 'file', 'store', 'cycle'}
    if '--enforce' in sys.argv:
        enforce = set(sys.argv[sys.argv.index('--enforce') + 1].split(','))
    found = {'fn': [], 'file': [], 'store': [], 'cycle': []}
    for crate in sorted(os.listdir('crates')):
        src = os.path.join('crates', crate, 'src')
        texts = {}
        for root, dirs, files in os.walk(src):
            dirs[:] = [d for d in dirs if d not in ('tests', 'conformance')]
            for f in files:
                if not f.endswith('.rs'):
                    continue
                p = os.path.join(root, f)
                lines = open(p, encoding='utf-8').read().split('\n')
                kept = dict(non_test_lines(lines))
                texts[module_of(src, p)] = '\n'.join(code(l) for l in kept.values())
                if len(kept) > FILE_MAX:
                    found['file'].append(f'long file {len(kept)} lines: {p}')
                if crate in ('quan-http', 'quan-web'):
                    found['store'] += [f'store call in {crate}: {p}:{i + 1}' for i, l in kept.items() if '.store()' in code(l)]
                for n, i, name in fn_lengths(lines, kept):
                    if n > FN_MAX:
                        found['fn'].append(f'long fn {n} lines: {p}:{i + 1} {name}')
        modules = set(texts)
        edges = {m: referenced(m, modules, t) for m, t in texts.items()}
        for a in sorted(edges):
            for b in sorted(edges[a]):
                related = a[: len(b)] == b or b[: len(a)] == a
                if a < b and a in edges.get(b, ()) and not related:
                    found['cycle'].append(f'modules importing each other in {crate}: {"::".join(a)} <-> {"::".join(b)}')
    for kind in ('fn', 'file', 'store', 'cycle'):
        for line in found[kind]:
            print(line)
    print('structure: ' + ', '.join(f'{len(v)} {k}' for k, v in found.items()) + f' (fn > {FN_MAX} lines, file > {FILE_MAX} lines)')
    return 1 if any(found[k] for k in enforce) else 0


if __name__ == '__main__':
    sys.exit(main())
