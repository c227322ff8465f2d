#!/usr/bin/env python3
"""rustfmt for the SQL both backends share (crates/quan-store/src/sql/*.rs).

Those stores are `macro_rules!` bodies, which rustfmt leaves alone. This
formats each body as the ordinary code it is: macro variables (`$row`) are
swapped for placeholder identifiers, the body is formatted by rustfmt with
the project's rustfmt.toml (8 columns narrower: the body is indented
twice in the file), and the variables are put back.
Usage: scripts/fmt_sql.py [--check]   (--check: exit 1 when a body would change)
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

ARM = re.compile(r'^    \((?P<args>[^)]*)\) => \{\n', re.M)
VAR = re.compile(r'\$([a-z_]+)')


def bodies(text):
    """(start, end) of each macro arm's body: the lines between `=> {` and `    };`."""
    for m in ARM.finditer(text):
        start = m.end()
        end = text.index('\n    };\n', start) + 1
        yield start, end


def fmt(body, root):
    code = VAR.sub(lambda m: f'__macro_{m.group(1)}__', body)
    lines = [l[8:] if l.startswith('        ') else l.lstrip() for l in code.split('\n')]
    with tempfile.NamedTemporaryFile('w', suffix='.rs', delete=False) as f:
        f.write('\n'.join(lines))
        path = f.name
    try:
        subprocess.run(['rustfmt', '--edition', '2024', '--config-path', os.path.join(root, 'rustfmt.toml'),
                        '--config', 'max_width=112', path],
                       check=True)
        out = open(path).read()
    finally:
        os.unlink(path)
    out = re.sub(r'__macro_([a-z_]+)__', r'$\1', out)
    return ''.join(('        ' + l if l.strip() else '') + '\n' for l in out.rstrip('\n').split('\n'))


def main():
    root = os.getcwd()
    check = '--check' in sys.argv
    differ = []
    for path in sorted(glob.glob('crates/quan-store/src/sql/*.rs')):
        text = open(path).read()
        new, last = [], 0
        for start, end in bodies(text):
            new.append(text[last:start])
            new.append(fmt(text[start:end], root))
            last = end
        new.append(text[last:])
        new = ''.join(new)
        if new != text:
            differ.append(path)
            if not check:
                open(path, 'w').write(new)
    for p in differ:
        print(('would reformat ' if check else 'reformatted ') + p)
    return 1 if (check and differ) else 0


if __name__ == '__main__':
    sys.exit(main())
