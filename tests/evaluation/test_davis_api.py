"""evaluate_davis on tiny DAVIS layouts: results, and every input error."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmsmtc.evaluation import evaluate_davis
from mmsmtc.evaluation.functional import evaluate_sequence
from mmsmtc.utils import write_indexed_png

SHAPE = (12, 16)
FRAMES = ['00000', '00001', '00002', '00003']


def _frame(index: int, num_objects: int = 2) -> np.ndarray:
    """A ground-truth frame with ``num_objects`` moving boxes."""
    ids = np.zeros(SHAPE, np.uint8)
    for obj in range(1, num_objects + 1):
        top = 2 * obj - 1
        ids[top:top + 3, index + 3 * obj:index + 3 * obj + 4] = obj
    return ids


def make_davis(root: Path, sequences=('seq-a', 'seq-b'), listed=None):
    """A DAVIS root with both annotation folders and an ImageSets list."""
    for folder in ('Annotations', 'Annotations_unsupervised'):
        for name in sequences:
            for index, frame in enumerate(FRAMES):
                write_indexed_png(
                    root / folder / '480p' / name / f'{frame}.png',
                    _frame(index))
    list_file = root / 'ImageSets' / '2017' / 'val.txt'
    list_file.parent.mkdir(parents=True)
    list_file.write_text('\n'.join(listed or sequences) + '\n')
    return root


def make_results(results: Path, sequences=('seq-a', 'seq-b'), shift=1):
    """Results: the ground truth shifted right by ``shift`` pixels."""
    for name in sequences:
        for index, frame in enumerate(FRAMES):
            write_indexed_png(results / name / f'{frame}.png',
                              np.roll(_frame(index), shift, axis=1))
    return results


@pytest.fixture
def layout(tmp_path):
    return make_davis(tmp_path / 'DAVIS'), make_results(tmp_path / 'res')


@pytest.mark.parametrize('task', ['semi-supervised', 'unsupervised'])
def test_evaluate_davis_matches_sequence_evaluation(layout, task):
    root, results = layout
    output = evaluate_davis(root, results, task, nproc=1)
    gt = np.stack([_frame(index) for index in range(len(FRAMES))])
    pred = np.roll(gt, 1, axis=2)
    if task == 'semi-supervised':
        gt, pred = gt[1:-1], pred[1:-1]
    expected = evaluate_sequence(task, 'seq-a', gt, pred, num_objects=2)
    assert list(
        output['per_object']) == ['seq-a_1', 'seq-a_2', 'seq-b_1', 'seq-b_2']
    assert output['per_object']['seq-a_2'] == expected['seq-a_2']
    assert set(output['global']) == {
        'J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall',
        'F-Decay'
    }
    assert 0 < output['global']['J-Mean'] < 1
    pooled = evaluate_davis(root, results, task, nproc=2)
    assert pooled == output


def test_sequences_argument_and_perfect_results(tmp_path):
    root = make_davis(tmp_path / 'DAVIS')
    results = make_results(tmp_path / 'res', shift=0)
    output = evaluate_davis(root, results, 'unsupervised', sequences=['seq-b'])
    assert list(output['per_object']) == ['seq-b_1', 'seq-b_2']
    assert output['global']['J&F-Mean'] == 1.0
    assert evaluate_davis(root,
                          results,
                          'unsupervised',
                          sequences='seq-b',
                          nproc=3) == output


def test_semisupervised_never_reads_first_and_last_results(layout):
    root, results = layout
    expected = evaluate_davis(root, results, 'semi-supervised', nproc=1)
    for name in ('seq-a', 'seq-b'):
        (results / name / '00000.png').unlink()
        write_indexed_png(results / name / '00003.png',
                          np.full(SHAPE, 9, np.uint8))
    # Reading the missing frame would raise, and reading the changed one
    # would raise too (id 9 > 2 objects) or change the numbers.
    assert evaluate_davis(root, results, 'semi-supervised',
                          nproc=1) == expected
    with pytest.raises(FileNotFoundError, match=r'seq-a/00000\.png'):
        evaluate_davis(root, results, 'unsupervised', nproc=1)


def test_missing_result_frame(layout):
    root, results = layout
    (results / 'seq-b' / '00002.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'seq-b/00002\.png'):
        evaluate_davis(root, results, 'unsupervised', nproc=1)


def test_result_of_wrong_size(layout):
    root, results = layout
    write_indexed_png(results / 'seq-a' / '00001.png',
                      np.zeros((12, 15), np.uint8))
    with pytest.raises(ValueError,
                       match=r'seq-a/00001\.png: mask is 12x15.*12x16'):
        evaluate_davis(root, results, 'semi-supervised', nproc=1)


def test_more_ids_than_objects_on_inner_frames(layout):
    root, results = layout
    write_indexed_png(results / 'seq-a' / '00002.png',
                      np.full(SHAPE, 3, np.uint8))
    with pytest.raises(ValueError,
                       match=r'seq-a/00002\.png: result id 3 .* 2 objects'):
        evaluate_davis(root, results, 'semi-supervised', nproc=1)


def test_more_than_twenty_proposals(layout):
    root, results = layout
    ids = np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) % 22
    write_indexed_png(results / 'seq-b' / '00003.png', ids)
    with pytest.raises(ValueError,
                       match=r'seq-b/00003\.png: result id 21 .* 20 '):
        evaluate_davis(root, results, 'unsupervised', nproc=1)


def test_rgb_result_png(layout):
    root, results = layout
    Image.new('RGB', SHAPE[::-1]).save(results / 'seq-a' / '00001.png')
    with pytest.raises(ValueError, match=r'seq-a/00001\.png.*mode .RGB.'):
        evaluate_davis(root, results, 'unsupervised', nproc=1)


def test_rgb_ground_truth_png(layout):
    root, results = layout
    path = root / 'Annotations' / '480p' / 'seq-a' / '00000.png'
    Image.new('RGB', SHAPE[::-1]).save(path)
    with pytest.raises(ValueError, match=r'Annotations/480p/seq-a/00000\.png'):
        evaluate_davis(root, results, 'semi-supervised', nproc=1)


def test_empty_sequence(layout):
    root, results = layout
    for path in (root / 'Annotations' / '480p' / 'seq-a').glob('*.png'):
        path.unlink()
    with pytest.raises(ValueError, match="'seq-a' has no ground-truth PNG"):
        evaluate_davis(root, results, 'semi-supervised', nproc=1)


def test_listed_sequence_absent_on_disk(tmp_path):
    root = make_davis(tmp_path / 'DAVIS',
                      listed=['seq-a', 'seq-b', 'seq-missing'])
    results = make_results(tmp_path / 'res')
    with pytest.raises(FileNotFoundError,
                       match=r"seq-missing: ground truth of sequence "):
        evaluate_davis(root, results, 'unsupervised', nproc=2)


def test_too_few_frames_for_semisupervised(tmp_path):
    root = make_davis(tmp_path / 'DAVIS', sequences=['seq-a'])
    for frame in FRAMES[2:]:
        (root / 'Annotations' / '480p' / 'seq-a' / f'{frame}.png').unlink()
    with pytest.raises(ValueError, match='at least 3, found 2'):
        evaluate_davis(root, make_results(tmp_path / 'res', ['seq-a']),
                       'semi-supervised')


def test_bad_arguments(layout, tmp_path):
    root, results = layout
    with pytest.raises(ValueError, match='task must be'):
        evaluate_davis(root, results, 'supervised')
    with pytest.raises(FileNotFoundError, match='folder does not exist'):
        evaluate_davis(root, tmp_path / 'nothing', 'unsupervised')
    with pytest.raises(FileNotFoundError, match=r'2017/test-dev\.txt'):
        evaluate_davis(root, results, 'unsupervised', subset='test-dev')
    with pytest.raises(ValueError, match='nproc must be at least 1'):
        evaluate_davis(root, results, 'unsupervised', nproc=0)
    with pytest.raises(ValueError, match='no sequences'):
        evaluate_davis(root, results, 'unsupervised', sequences=[])
    (tmp_path / 'bare').mkdir()
    with pytest.raises(FileNotFoundError, match='Annotations_unsupervised'):
        evaluate_davis(tmp_path / 'bare', results, 'unsupervised')
