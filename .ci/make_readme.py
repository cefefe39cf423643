"""Generate README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which is not installable here).

Markdown cells are copied; `#| hide` code cells run but are not shown; `#| echo: false` cells show only their
outputs; markdown/plain-text outputs are included; image links are made relative to the repository root.
Run from the repository root: `python .ci/make_readme.py`.
"""
import re, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

root = Path(__file__).resolve().parent.parent
nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(root/'nbs')}}).execute()
fix = lambda t: re.sub(r'\]\((?!https?:|#)([^)]+)\)', lambda m: f"](nbs/{m.group(1)})", t)
out = []
for c in nb.cells:
    src = c.source
    if c.cell_type == 'markdown':
        out.append(fix(src)); continue
    if c.cell_type != 'code': continue
    dirs = set(re.findall(r'^\s*#\s*\|\s*(.+?)\s*$', src, flags=re.M))
    if 'hide' in dirs: continue
    if 'echo: false' not in dirs:
        code = '\n'.join(l for l in src.splitlines() if not re.match(r'^\s*#\s*\|', l))
        if code.strip(): out.append(f"```python\n{code}\n```")
    for o in c.get('outputs', []):
        d = o.get('data', {})
        if 'text/markdown' in d: out.append(d['text/markdown'])
        elif o.get('output_type') == 'stream': out.append(f"```\n{o['text']}```")
        elif 'text/plain' in d and 'image/png' not in d: out.append(f"```\n{d['text/plain']}\n```")
(root/'README.md').write_text('\n\n'.join(s.strip('\n') for s in out if s.strip()) + '\n')
print(f"wrote {root/'README.md'}")
