"""The before/after comparison table of two runs' metrics."""
import json
import math

import pytest

from mmsmtc.evaluation.comparison import (compare_metrics, format_comparison,
                                          write_comparison)

BEFORE = {'davis/J&F-Mean': 0.25, 'vip/mIoU': 0.5, 'jhmdb/PCK@0.1': None}
AFTER = {'davis/J&F-Mean': 0.625, 'vip/mIoU': 0.4375, 'jhmdb/PCK@0.1': 0.5}
ROWS = [('unsup J&F', 'davis/J&F-Mean'), ('mIoU', 'vip/mIoU'),
        ('PCK@0.1', 'jhmdb/PCK@0.1')]


def test_rows_hold_both_values_and_the_difference():
    rows = compare_metrics(BEFORE, AFTER, ROWS)
    assert [row['metric'] for row in rows] == ['unsup J&F', 'mIoU', 'PCK@0.1']
    assert rows[0]['before'] == 0.25 and rows[0]['after'] == 0.625
    assert rows[0]['difference'] == pytest.approx(0.375)
    assert rows[1]['difference'] == pytest.approx(-0.0625)
    assert math.isnan(rows[2]['before']) and math.isnan(rows[2]['difference'])


def test_missing_metric_names_the_run_and_key():
    with pytest.raises(KeyError, match="after run has no metric 'vip/mIoU'"):
        compare_metrics(BEFORE, {'davis/J&F-Mean': 0.1}, ROWS[:2])


def test_text_table_in_percent_with_signed_difference():
    rows = compare_metrics(BEFORE, AFTER, ROWS)
    lines = format_comparison(rows, ('untrained', 'trained')).splitlines()
    assert lines[0].split() == ['metric', 'untrained', 'trained',
                                'difference']
    assert set(lines[1]) <= {'-', ' '}
    assert lines[2].split() == ['unsup', 'J&F', '25.0', '62.5', '+37.5']
    assert lines[3].split() == ['mIoU', '50.0', '43.8', '-6.2']
    assert lines[4].split() == ['PCK@0.1', 'n/a', '50.0', 'n/a']
    assert len({len(line) for line in lines}) == 1


def test_markdown_table():
    rows = compare_metrics(BEFORE, AFTER, ROWS[:1])
    text = format_comparison(rows, ('untrained', 'trained'), markdown=True)
    assert text.splitlines() == [
        '| metric | untrained | trained | difference |',
        '| --- | ---: | ---: | ---: |',
        '| unsup J&F | 25.0 | 62.5 | +37.5 |',
    ]


def test_written_files(tmp_path):
    rows = compare_metrics(BEFORE, AFTER, ROWS)
    paths = write_comparison(tmp_path / 'out', rows, ('untrained', 'trained'),
                             sources=dict(checkpoint='iter_5.pth'))
    saved = json.loads(paths['json'].read_text())
    assert saved['columns'] == dict(before='untrained', after='trained')
    assert saved['rows'][0] == dict(metric='unsup J&F', key='davis/J&F-Mean',
                                    before=0.25, after=0.625,
                                    difference=0.375)
    assert saved['rows'][2]['before'] is None
    assert saved['sources'] == dict(checkpoint='iter_5.pth')
    assert paths['markdown'].read_text().startswith('| metric | untrained')
