"""Official davis2017-evaluation numbers on real masks (reference_public.json).

The pairings are built in ``tmp_path`` exactly as their descriptions say:

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


@pytest.fixture(scope='module')
def reference(shared_data):
    masks = shared_data / 'davis2017_val_masks'
    return masks, json.loads((masks / 'reference_public.json').read_text())


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
