"Packaging: metadata from settings.ini, the console script, and what a wheel contains."
import configparser, subprocess, sys, zipfile
from importlib.metadata import distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); cfg = cfg['DEFAULT']

def test_installed_metadata_matches_settings():
    d = distribution('mani-nbdev')
    assert d.version == cfg['version']
    import mani_nbdev; assert mani_nbdev.__version__ == cfg['version']
    reqs = ' '.join(d.requires or [])
    assert 'fastai>=2.8.6' in reqs and '<2.8.8' not in reqs.split('extra ==')[0]     # runtime fastai is not capped
    assert any(ep.name == 'mani-nbdev' for ep in d.entry_points if ep.group == 'console_scripts')

def test_tst_flags_space_separated():
    assert cfg['tst_flags'].split() == ['slow', 'cuda']

def test_wheel_contains_every_module(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    whl = next(tmp_path.glob('mani_nbdev-*.whl'))
    names = zipfile.ZipFile(whl).namelist()
    for mod in (p.name for p in (ROOT/'mani_nbdev').glob('*.py')): assert f'mani_nbdev/{mod}' in names, mod
    assert not any(n.startswith(('nbs/', 'tests/')) for n in names)
