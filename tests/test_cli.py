"The `mani-nbdev` command in a subprocess, as a user runs it."
import json, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent

def mani(*args, timeout=900):
    exe = Path(sys.executable).parent/'mani-nbdev'
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)

def test_help_lists_subcommands():
    r = mani('--help')
    assert r.returncode == 0
    for c in ('train', 'reproduce'): assert c in r.stdout

def test_module_entry_point():
    r = subprocess.run([sys.executable, '-m', 'mani_nbdev.cli', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'reproduce' in r.stdout

def test_train_writes_metrics_and_figure(tmp_path):
    r = mani('train', '--method', 'mani', '--iters', '20', '--warmup', '10', '--out', str(tmp_path), '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert m['method'] == 'mani' and (m['source'], m['target']) == ('tnbc', 'kirc')
    assert 0 <= m['target_dice'] <= 1 and 0 <= m['target_iou'] <= m['target_dice'] + 1e-9
    assert (tmp_path/'predictions.png').stat().st_size > 1000
    assert 'target kirc: Dice' in r.stdout

def test_bad_input_is_a_clear_error(tmp_path):
    r = mani('train', '--source', 'brca', '--out', str(tmp_path))
    assert r.returncode == 2 and "unknown domain 'brca'" in r.stderr and 'Traceback' not in r.stderr
    r = mani('reproduce', 'nonsense', '--out', str(tmp_path))
    assert r.returncode == 2 and 'unknown reproduction' in r.stderr

def test_readme_main_job(tmp_path):
    "The README's main job: `mani-nbdev reproduce mani --scale tiny --seeds 0 --out DIR` (CI's run cache holds seed 0 from `20_repro_mani`)."
    args = ['reproduce', 'mani', '--scale', 'tiny', '--seeds', '0', '--out', str(tmp_path/'results'), '--quiet']
    r = mani(*args, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    res = pd.read_csv(tmp_path/'results'/'results.csv')
    assert list(res.columns[:7]) == ['method', 'source', 'target', 'seed', 'scale', 'metric', 'value']
    shifts = {('tnbc', 'kirc'), ('tnbc', 'tcia'), ('tcia', 'kirc'), ('tcia', 'tnbc')}
    for m in ('source-only', 'target-stats', 'mani'):
        assert shifts <= set(map(tuple, res[res.method == m][['source', 'target']].drop_duplicates().values)), m
    assert res.value.between(0, 1).all()
    for f in ('results.md', 'target_dice.png', 'predictions.png'): assert (tmp_path/'results'/f).stat().st_size > 100
    assert 'cannot rank the methods' in (tmp_path/'results'/'results.md').read_text()       # one seed: said, no interval
