"""Official davis2017-evaluation numbers on real masks.

Two sources, each a folder of ``osvos/`` and ``rvos/`` masks with the
official tool's per-object numbers:

- ``fixture``: ``tests/data/davis2017_masks`` (2 whole sequences, always
  present), numbers in its ``reference.json`` (see its README);
- ``shared``: ``../shared/data/davis2017_val_masks`` (3 sequences of the 30),
  numbers in ``reference_public.json``; skipped when absent.

The pairings are built in a temporary folder exactly as their descriptions
say:

- U1: unsupervised, ground truth = ``osvos/`` (as
  ``Annotations_unsupervised/480p``), results = ``rvos/``;
- S3: semi-supervised, ground truth = ``osvos/`` (as ``Annotations/480p``),
  results = ``osvos/`` shifted by +5 rows and -3 columns with zero fill, then
  in every 7th frame (1-based position divisible by 7) the highest object id
  present set to 0.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmsmtc.evaluation import DAVISMetric, evaluate_davis
from mmsmtc.evaluation.functional import global_statistics
from mmsmtc.utils import read_indexed_png, write_indexed_png

TOLERANCE = 1e-6


@pytest.fixture(scope='module', params=['fixture', 'shared'])
def reference(request, davis_masks):
    """``(masks folder, reference numbers)`` of one source."""
    if request.param == 'fixture':
        masks, name = davis_masks, 'reference.json'
    else:
        masks = request.getfixturevalue('shared_data') / 'davis2017_val_masks'
        name = 'reference_public.json'
    return masks, json.loads((masks / name).read_text())


def _perturbed(mask: np.ndarray, position: int) -> np.ndarray:
    """S3's perturbation of the frame at 1-based ``position``."""
    shifted = np.zeros_like(mask)
    shifted[5:, :-3] = mask[:-5, 3:]
    if position % 7 == 0 and shifted.max() > 0:
        shifted[shifted == shifted.max()] = 0
    return shifted


@pytest.fixture(scope='module')
def pairings(reference, tmp_path_factory):
    """``{case: (davis_root, results_dir)}`` for U1 and S3."""
    masks, ref = reference
    root = tmp_path_factory.mktemp('davis_reference')
    sequences = sorted(
        set(ref['cases']['U1']['sequences'] + ref['cases']['S3']['sequences']))
    (root / 'ImageSets' / '2017').mkdir(parents=True)
    (root / 'ImageSets' / '2017' / 'val.txt').write_text('\n'.join(sequences))
    for name in sequences:
        for folder in ('Annotations', 'Annotations_unsupervised'):
            shutil.copytree(masks / 'osvos' / name,
                            root / folder / '480p' / name)
        shutil.copytree(masks / 'rvos' / name, root / 'rvos' / name)
        paths = sorted((masks / 'osvos' / name).glob('*.png'))
        for position, path in enumerate(paths, start=1):
            write_indexed_png(root / 'shifted' / name / path.name,
                              _perturbed(read_indexed_png(path), position))
    return {'U1': (root, root / 'rvos'), 'S3': (root, root / 'shifted')}


def _check_against_reference(case, output):
    expected = case['per_object']
    assert list(output['per_object']) == list(expected)
    for row, numbers in expected.items():
        assert set(numbers) == {
            'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall', 'F-Decay'
        }
        for key, value in numbers.items():
            assert abs(output['per_object'][row][key] -
                       value) <= TOLERANCE, (row, key)
    expected_global = global_statistics(expected)
    for key, value in expected_global.items():
        assert abs(output['global'][key] - value) <= TOLERANCE, key


@pytest.mark.slow
def test_unsupervised_matches_official(reference, pairings):
    case = reference[1]['cases']['U1']
    output = evaluate_davis(*pairings['U1'],
                            case['task'],
                            sequences=case['sequences'],
                            nproc=2)
    _check_against_reference(case, output)


def test_semisupervised_matches_official(reference, pairings):
    case = reference[1]['cases']['S3']
    output = evaluate_davis(*pairings['S3'],
                            case['task'],
                            sequences=case['sequences'],
                            nproc=2)
    _check_against_reference(case, output)


def _video_sample(root: Path, results: Path, name: str) -> dict:
    """A data sample dict of one whole video, as a test loop produces."""
    paths = sorted((root / 'Annotations' / '480p' / name).glob('*.png'))
    return dict(video_name=name,
                frame_names=[path.stem for path in paths],
                gt_masks=[read_indexed_png(path) for path in paths],
                pred_masks=np.stack([
                    read_indexed_png(results / name / path.name)
                    for path in paths
                ]))


@pytest.mark.slow
def test_metric_matches_official(reference, pairings, tmp_path):
    case = reference[1]['cases']['S3']
    root, results = pairings['S3']
    metric = DAVISMetric(task='semi-supervised', output_dir=str(tmp_path))
    for name in case['sequences']:
        metric.process({}, [_video_sample(root, results, name)])
    computed = metric.compute_metrics(metric.results)
    for key, value in global_statistics(case['per_object']).items():
        assert abs(computed[key] - value) <= TOLERANCE, key
    name = case['sequences'][0]
    written = sorted((tmp_path / name).glob('*.png'))
    assert [path.name for path in written
            ] == sorted(path.name for path in (results / name).glob('*.png'))
    np.testing.assert_array_equal(
        read_indexed_png(written[3]),
        read_indexed_png(results / name / written[3].name))


def test_fixture_covers_several_objects_and_both_pairings(davis_masks):
    cases = json.loads((davis_masks / 'reference.json').read_text())['cases']
    for case, task in (('U1', 'unsupervised'), ('S3', 'semi-supervised')):
        assert cases[case]['task'] == task
        rows = list(cases[case]['per_object'])
        assert rows == ['car-shadow_1', 'kite-surf_1', 'kite-surf_2',
                        'kite-surf_3']
    for name in cases['U1']['sequences']:
        for method in ('osvos', 'rvos'):
            # Whole sequences: the official numbers are for every frame.
            assert len(list((davis_masks / method / name).glob('*.png'))) in (
                40, 50)


def test_fixture_reference_equals_the_public_one(davis_masks, shared_data):
    """Where the sources share a sequence, the official numbers computed on
    the fixture equal the published ones exactly."""
    fixture = json.loads((davis_masks / 'reference.json').read_text())
    public = json.loads((shared_data / 'davis2017_val_masks' /
                         'reference_public.json').read_text())
    for case in ('U1', 'S3'):
        ours = fixture['cases'][case]['per_object']
        theirs = public['cases'][case]['per_object']
        common = sorted(set(ours) & set(theirs))
        assert common == ['car-shadow_1']
        for row in common:
            assert ours[row] == theirs[row], (case, row)


def test_fixture_masks_are_the_shared_masks(davis_masks, shared_data):
    """Re-encoding kept every id of every frame."""
    shared = shared_data / 'davis2017_val_masks'
    paths = sorted(davis_masks.glob('*/*/*.png'))
    assert len(paths) == 2 * 40 + 2 * 50 + 6
    for path in paths:
        original = shared / path.relative_to(davis_masks)
        np.testing.assert_array_equal(read_indexed_png(path),
                                      read_indexed_png(original),
                                      err_msg=str(path))
