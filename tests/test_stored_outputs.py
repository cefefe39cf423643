"""Notebooks are read on GitHub, where nothing runs: every chapter must carry its outputs. A cell that draws a figure
stores an image, a `show_doc` cell stores its table, and no stored output is progress-bar text or a cache message."""
import json, re
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent.parent/'nbs'
NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))
SKIPPED = re.compile(r'^\s*#\s*\|\s*(slow|cuda|eval:\s*false|hide)\b', re.M)
PLOTS = re.compile(r'\b(plt\.(subplots|figure|imshow|plot|bar|hist|scatter)|\.imshow\(|show_batch\(|show_results\(|plot_\w*\(|\.plot\()')
NOISE = re.compile(r'█|<progress|\d+/\d+ \[\d\d:\d\d|cache hit|from the run cache|read from cache|\w+Warning: ', re.I)

def cells(p: Path) -> list: return [c for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'code']
def src(c) -> str: return ''.join(c['source'])
def kinds(c) -> set: return {k for o in c.get('outputs', []) for k in o.get('data', {})} | {o['output_type'] for o in c.get('outputs', [])}
def text(c) -> str:
    return '\n'.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', '')) + ''.join(o.get('data', {}).get('text/html', ''))
                     for o in c.get('outputs', []))

def test_there_are_notebooks(): assert len(NOTEBOOKS) > 20

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_figures_and_docs_are_stored(nb):
    missing = []
    for c in cells(nb):
        s = src(c)
        if SKIPPED.search(s): continue
        draws = PLOTS.search(s) and not re.search(r'^\s*(def|class) ', s, re.M) and 'plt.close(' not in s   # closed: a test of the API, not a picture
        if draws and 'image/png' not in kinds(c): missing.append(('no figure', s[:80]))
        if re.match(r'^\s*show_doc\(', s) and not c.get('outputs'): missing.append(('no show_doc output', s[:80]))
    assert not missing, missing

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_no_progress_bars_or_cache_messages(nb):
    bad = [src(c)[:80] for c in cells(nb) if NOISE.search(text(c))]
    assert not bad, bad

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_a_chapter_that_plots_shows_a_picture(nb):
    "Even where every plotting cell is slow or a closed API test, the chapter stores at least one figure."
    cs = cells(nb)
    if any(PLOTS.search(src(c)) and not re.search(r'^\s*(def|class) |^\s*#\s*\|\s*export', src(c), re.M) for c in cs):
        assert any('image/png' in kinds(c) for c in cs), nb.name
