"""The `mani-nbdev data` commands (`mani_nbdev.datasets.add_data_commands`), offline.

Every dataset is written as a tiny fixture in its own on-disk format (`write_fixture`); downloads go to a
local HTTP server on 127.0.0.1, never to the network. (The bad inputs of issue 15 are in test_bad_inputs_data.py.)
"""
import argparse, hashlib, io, subprocess, sys, zipfile
from pathlib import Path
import pytest
from mani_nbdev.datasets import DATASETS, add_data_commands, data_main, write_fixture
from servers import Server

REPO = Path(__file__).resolve().parent.parent
NUCLEI = ['tnbc', 'kirc', 'tcia', 'consep', 'pannuke', 'bbbc039', 'monuseg']


def run(argv, capsys):
    rc = data_main(argv)
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


@pytest.fixture(scope='module')
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp('datasets')
    for n in NUCLEI: write_fixture(n, root)
    return root


def zip_of(folder: Path, prefix: str) -> bytes:
    "A zip of `folder` with members under `prefix/`, plus a macOS junk member as in the real archives."
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        for f in sorted(folder.rglob('*')):
            if f.is_file(): z.write(f, f'{prefix}/{f.relative_to(folder).as_posix()}')
        z.writestr(f'__MACOSX/{prefix}/._junk', b'junk')
    return b.getvalue()


def test_registry_has_the_seven_nuclei_datasets():
    assert list(DATASETS)[:7] == NUCLEI                     # the papers' seven first; later chapters add more


def test_add_data_commands_sets_handlers():
    p = argparse.ArgumentParser()
    add_data_commands(p.add_subparsers(dest='command'))
    for argv in (['data', 'list'], ['data', 'check', 'tnbc', '--root', 'x'], ['data', 'download', 'pannuke', '--root', 'x', '--mirror', 'file:///m']):
        assert callable(p.parse_args(argv).func)
    with pytest.raises(SystemExit): p.parse_args(['data', 'check', 'lizard'])


def test_list_prints_every_dataset_and_status(fixtures, tmp_path, capsys):
    rc, out = run(['data', 'list', '--root', str(fixtures)], capsys)
    assert rc == 0
    for n in NUCLEI:
        line = next(l for l in out.splitlines() if l.split() and l.split()[0] == n)
        assert 'ready' in line, line
    rc, out = run(['data', 'list', '--root', str(tmp_path / 'empty')], capsys)
    assert rc == 0 and out.count('not downloaded') == len(DATASETS)
    assert 'CC BY-NC-SA 4.0' in out and 'CC0' in out          # licences shown


def test_list_default_root_from_environment(fixtures, monkeypatch, capsys):
    monkeypatch.setenv('MANI_NBDEV_DATA_ROOT', str(fixtures))
    rc, out = run(['data', 'list'], capsys)
    assert rc == 0 and str(fixtures) in out and out.count('ready') == len(NUCLEI)


@pytest.mark.filterwarnings('ignore:.*fewer than 3 vertices')   # the MoNuSeg fixture's degenerate region, counted
@pytest.mark.parametrize('name', NUCLEI)
def test_check_passes_on_fixture(fixtures, name, capsys):
    rc, out = run(['data', 'check', name, '--root', str(fixtures)], capsys)
    assert rc == 0, out
    assert f'{name}: OK' in out


def test_check_fails_naming_the_file(tmp_path, capsys):
    write_fixture('tnbc', tmp_path)
    bad = tmp_path / 'tnbc/TNBC_NucleiSegmentation/GT_02/02_1.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    (tmp_path / 'tnbc/TNBC_NucleiSegmentation/GT_03/03_2.png').unlink()
    rc, out = run(['data', 'check', 'tnbc', '--root', str(tmp_path)], capsys)
    assert rc == 1
    assert 'Slide_03/03_2.png (expected' in out                   # image without its mask
    assert 'GT_02/02_1.png: cannot read image' in out             # ... and the corrupt one is still found
    rc, out = run(['data', 'check', 'consep', '--root', str(tmp_path)], capsys)
    assert rc == 1 and 'consep: folder not found' in out


def test_check_reports_every_broken_file(tmp_path, capsys):
    write_fixture('bbbc039', tmp_path)
    masks = sorted((tmp_path / 'bbbc039/masks').glob('*.png'))
    for m in masks[:2]: m.write_bytes(b'not a png')
    rc, out = run(['data', 'check', 'bbbc039', '--root', str(tmp_path)], capsys)
    assert rc == 1 and '2 problem(s)' in out
    for m in masks[:2]: assert f'{m}: cannot read image' in out


def test_download_from_local_server_retries_and_unpacks(tmp_path, capsys, monkeypatch):
    src = write_fixture('bbbc039', tmp_path / 'src')
    files = {f'{d}.zip': zip_of(src / d, d) for d in ('images', 'masks', 'metadata')}
    for s in DATASETS['bbbc039'].sources:               # the fixture's archives in place of the published ones
        monkeypatch.setattr(s, 'sha256', hashlib.sha256(files[s.filename]).hexdigest())
    with Server(files, cut={'images.zip'}) as srv, pytest.warns(UserWarning, match='skipped 1 macOS'):
        rc, out = run(['data', 'download', 'bbbc039', '--root', str(tmp_path / 'dl'), '--mirror', srv.url, '--quiet'], capsys)
        assert rc == 0, out
        assert [r for r in srv.requests if r[0] == 'images.zip'] == [('images.zip', None)] * 2    # the broken transfer was retried
    dest = tmp_path / 'dl/bbbc039'
    assert sorted(p.name for p in dest.iterdir()) == ['images', 'masks', 'metadata']    # archives removed, no __MACOSX
    rc, out = run(['data', 'check', 'bbbc039', '--root', str(tmp_path / 'dl')], capsys)
    assert rc == 0 and 'OK, 4 images' in out


def test_download_rejects_wrong_checksum(tmp_path, capsys):
    src = write_fixture('tnbc', tmp_path / 'src')
    blob = zip_of(src / 'TNBC_NucleiSegmentation', 'TNBC_NucleiSegmentation')
    assert hashlib.sha256(blob).hexdigest() != DATASETS['tnbc'].sources[0].sha256
    with Server({'TNBC_NucleiSegmentation.zip': blob}) as srv:
        rc, out = run(['data', 'download', 'tnbc', '--root', str(tmp_path / 'dl'), '--mirror', srv.url, '--quiet'], capsys)
    assert rc == 1 and 'TNBC_NucleiSegmentation.zip' in out and 'sha256 mismatch' in out
    assert list((tmp_path / 'dl/tnbc').iterdir()) == []                   # nothing left behind


def test_download_explains_manual_datasets(tmp_path, capsys):
    rc, out = run(['data', 'download', 'kirc', '--root', str(tmp_path)], capsys)
    assert rc == 3 and 'no stable public download' in out
    rc, out = run(['data', 'download', 'monuseg', '--root', str(tmp_path), '--quiet'], capsys)
    assert rc == 3 and 'monuseg.grand-challenge.org' in out and str(tmp_path / 'monuseg') in out


def test_package_cli_runs_data_commands(fixtures, tmp_path):
    "One subprocess only: `mani_nbdev.cli` imports the training stack (several seconds)."
    if not (REPO / 'mani_nbdev' / 'cli.py').exists():
        pytest.skip('mani_nbdev/cli.py does not exist yet: the lead wires `add_data_commands` into it')
    cmd = [sys.executable, '-m', 'mani_nbdev.cli', 'data']
    r = subprocess.run(cmd + ['list', '--root', str(fixtures)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert all(n in r.stdout for n in NUCLEI) and r.stdout.count('ready') == len(NUCLEI)
