"""tools/data/check_dataset.py and the library check behind it."""
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import make_davis, video_frames, write_frames

from mmsmtc.datasets.dataset_check import check_dataset
from mmsmtc.utils.palette import write_indexed_png

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'data' / \
    'check_dataset.py'


def run_tool(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, 'argv', [str(TOOL), *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(TOOL), run_name='__main__')
    return exit_info.value.code, capsys.readouterr().out


def test_subset_passes_only_with_the_flag(davis_root, monkeypatch, capsys):
    code, out = run_tool(monkeypatch, capsys, 'davis2017', davis_root)
    assert code == 1
    assert 'found 2 of expected 30 videos' in out and 'FAILED' in out
    assert '--allow-subset' in out
    code, out = run_tool(monkeypatch, capsys, 'davis2017', davis_root,
                         '--allow-subset')
    assert code == 0 and 'found 2 of expected 30' in out and 'OK' in out


def test_every_broken_file_is_named(davis_root, monkeypatch, capsys):
    frames = davis_root / 'JPEGImages' / '480p'
    truncated = frames / 'bear' / '00001.jpg'
    truncated.write_bytes(truncated.read_bytes()[:100])
    (davis_root / 'Annotations' / '480p' / 'camel' / '00002.png').unlink()
    code, out = run_tool(monkeypatch, capsys, 'davis2017', davis_root,
                         '--allow-subset')
    assert code == 1
    assert 'bear/00001.jpg' in out and "['00002']" in out
    assert 'found 0 of expected 30' in out


def test_mask_problems_and_listed_absent_sequences(tmp_path):
    root = make_davis(tmp_path, dict(bear=2, camel=2),
                      listed=['bear', 'camel', 'ghost'])
    write_indexed_png(root / 'Annotations' / '480p' / 'bear' / '00001.png',
                      np.zeros((5, 5), np.uint8))
    report = check_dataset('davis2017', root)
    assert report.found == 1
    assert any('bear/00001.png' in p for p in report.problems)
    assert any('ghost' in p for p in report.problems)
    subset = check_dataset('davis2017', root, allow_subset=True)
    assert not any('ghost' in p for p in subset.problems)
    assert any('ghost' in note for note in subset.notes)


def test_single_object_and_jhmdb_and_ytvos_checks(tmp_path):
    davis = make_davis(tmp_path / 'DAVIS', dict(bear=2))
    report = check_dataset('davis2016', davis, allow_subset=True)
    assert report.found == 1 and report.passed(allow_subset=True)
    assert not report.passed()
    jhmdb = tmp_path / 'JHMDB'
    (jhmdb / 'splits').mkdir(parents=True)
    (jhmdb / 'splits' / 'run_test_split1.txt').write_text('a.avi 2\n')
    write_frames(jhmdb / 'Rename_Images' / 'run' / 'a',
                 video_frames(2, (8, 8)), names=['00001', '00002'],
                 suffix='.png')
    (jhmdb / 'joint_positions' / 'run' / 'a').mkdir(parents=True)
    (jhmdb / 'joint_positions' / 'run' / 'a' /
     'joint_positions.mat').write_bytes(b'bad')
    report = check_dataset('jhmdb', jhmdb)
    assert report.found == 0 and 'joint_positions.mat' in report.problems[0]
    ytvos = tmp_path / 'YTVOS'
    write_frames(ytvos / 'train' / 'JPEGImages' / 'v', video_frames(6,
                                                                    (8, 8)))
    (ytvos / 'train' / 'JPEGImages' / 'w').mkdir()
    report = check_dataset('ytvos', ytvos)
    assert report.found == 1 and 'w: empty sequence' in report.problems[0]
    assert check_dataset('ytvos', tmp_path / 'none').problems


def test_unknown_benchmark_is_an_error(tmp_path):
    with pytest.raises(KeyError, match='unknown benchmark'):
        check_dataset('kinetics', tmp_path)


def test_missing_lists_are_reported(tmp_path):
    report = check_dataset('davis2017', tmp_path)
    assert report.found == 0 and 'val.txt' in report.problems[0]
    report = check_dataset('jhmdb', tmp_path)
    assert 'test_split1' in report.problems[0]


def test_split_applies_to_davis_only(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv',
                        [str(TOOL), 'vip', str(tmp_path), '--split', 'val'])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(TOOL), run_name='__main__')
    assert exit_info.value.code == 2
    assert 'davis2017 and davis2016 only' in capsys.readouterr().err
