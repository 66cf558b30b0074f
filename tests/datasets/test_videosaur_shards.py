"""VideoSAUR's webdataset shards: reading, malformed shards, the dataset's
videos and chunks, and the official partial YT-VIS selection."""
import io
import tarfile

import numpy as np
import pytest

from mmsmtc.datasets import (ShardFormatError, ShardWriter, VideoShardDataset,
                             expand_shard_pattern, index_shards,
                             list_shard_samples, official_partial_chunks,
                             read_npy_header, read_npy_member)


def video(num_frames, seed=0, size=(6, 8)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (num_frames, *size, 3), dtype=np.uint8)


def write_shards(folder, frame_counts, per_shard=2, prefix='movi_c-val'):
    """Shards of videos ``0, 1, ...`` with the given frame counts."""
    with ShardWriter(str(folder / f'{prefix}-%06d.tar'), per_shard) as w:
        for key, count in enumerate(frame_counts):
            w.write(str(key), dict(video=video(count, key),
                                   segmentations=np.full(
                                       (count, 6, 8, 1), key, np.uint8)))
    return w.paths


def raw_tar(path, members):
    """A tar of ``{name: bytes}``."""
    with tarfile.open(path, 'w') as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_round_trip_reads_arrays_rows_and_headers(tmp_path):
    paths = write_shards(tmp_path, [5, 3, 4], per_shard=2)
    assert [p.split('-')[-1] for p in paths] == ['000000.tar', '000001.tar']
    samples = index_shards(paths)
    assert [s.key for s in samples] == ['0', '1', '2']
    assert sorted(samples[0].fields) == ['segmentations', 'video']
    np.testing.assert_array_equal(read_npy_member(samples[0], 'video'),
                                  video(5, 0))
    np.testing.assert_array_equal(
        read_npy_member(samples[2], 'video', (1, 3)), video(4, 2)[1:3])
    header = read_npy_header(samples[1], 'segmentations')
    assert header.shape == (3, 6, 8, 1) and header.dtype == np.uint8
    # Same inputs, same bytes.
    again = write_shards(tmp_path / 'again', [5, 3, 4], per_shard=2)
    assert open(paths[0], 'rb').read() == open(again[0], 'rb').read()


def test_shard_patterns(tmp_path):
    write_shards(tmp_path, [2] * 5, per_shard=2)
    assert len(expand_shard_pattern('movi_c-val-{000000..000002}.tar',
                                    tmp_path)) == 3
    assert len(expand_shard_pattern('movi_c-val-*.tar', tmp_path)) == 3
    with pytest.raises(FileNotFoundError, match='1 of 4 shards are missing'):
        expand_shard_pattern('movi_c-val-{000000..000003}.tar', tmp_path)
    with pytest.raises(FileNotFoundError, match='no shard matches'):
        expand_shard_pattern('ytvis-*.tar', tmp_path)


@pytest.mark.parametrize('members, message', [
    ({'0.npy': npy(np.zeros(2))}, r"'0.npy' is not <key>.<field>.npy"),
    ({'0': b'x'}, "'0' has no extension"),
    ({'0.video.jpg': b'x'}, "'0.video.jpg' is not <key>.<field>.npy"),
    ({'0.video.npy': npy(np.zeros(2)), '1.video.npy': npy(np.zeros(2)),
      '0.segmentations.npy': npy(np.zeros(2))}, 'are not consecutive'),
])
def test_malformed_member_names(tmp_path, members, message):
    shard = raw_tar(tmp_path / 'bad.tar', members)
    with pytest.raises(ShardFormatError, match=message) as error:
        list_shard_samples(shard)
    assert 'bad.tar' in str(error.value)


def test_not_a_tar_and_truncated_tar(tmp_path):
    garbage = tmp_path / 'garbage.tar'
    garbage.write_bytes(b'not a tar at all' * 100)
    with pytest.raises(ShardFormatError, match='garbage.tar: not a readable'):
        list_shard_samples(garbage)
    (shard, ) = write_shards(tmp_path, [6], per_shard=4)
    data = open(shard, 'rb').read()
    cut = tmp_path / 'cut.tar'
    cut.write_bytes(data[:2000])  # inside the second member's header
    with pytest.raises(ShardFormatError,
                       match="cut.tar: unreadable data after sample '0'"):
        list_shard_samples(cut)
    cut.write_bytes(data[:1536 + 600])  # inside the second member's data
    with pytest.raises(ShardFormatError,
                       match="cut.tar: member '0.segmentations.npy' is trunc"):
        list_shard_samples(cut)
    cut.write_bytes(data[:1536])  # at a member boundary
    with pytest.raises(ShardFormatError, match='no end-of-archive'):
        list_shard_samples(cut)


def test_malformed_npy_members(tmp_path):
    header_only = npy(np.zeros((4, 2, 2, 3), np.uint8))[:-10]
    shard = raw_tar(
        tmp_path / 'npy.tar', {
            '0.video.npy': b'\x93NUMPX garbage',
            '1.video.npy': header_only,
            '2.video.npy': npy(np.array([{'a': 1}], dtype=object)),
        })
    samples = list_shard_samples(shard)
    with pytest.raises(ShardFormatError,
                       match=r"npy.tar: member '0.video.npy': not a .npy"):
        read_npy_member(samples[0], 'video')
    with pytest.raises(ShardFormatError,
                       match=r"'1.video.npy': 166 bytes but a uint8 array "
                       r'of shape \(4, 2, 2, 3\) needs 176'):
        read_npy_member(samples[1], 'video')
    with pytest.raises(ShardFormatError, match='object arrays'):
        read_npy_header(samples[2], 'video')
    with pytest.raises(ShardFormatError,
                       match="sample '0' has no member '0.segmentations"):
        read_npy_member(samples[0], 'segmentations')


def test_duplicate_keys_across_shards(tmp_path):
    first = write_shards(tmp_path / 'a', [2])
    second = write_shards(tmp_path / 'b', [2])
    with pytest.raises(ShardFormatError, match="key '0' is also in"):
        index_shards(first + second)


def test_dataset_whole_videos_and_aligned_chunks(tmp_path):
    write_shards(tmp_path, [13, 5, 2], per_shard=2)
    whole = VideoShardDataset(shards='movi_c-val-*.tar',
                              data_root=str(tmp_path), lazy_init=False)
    assert [whole[i]['video_name'] for i in range(len(whole))] == [
        '0', '1', '2'
    ]
    assert whole.get_data_info(0)['frame_range'] is None
    chunks = VideoShardDataset(shards='movi_c-val-*.tar',
                               data_root=str(tmp_path), chunk_len=6)
    infos = [chunks.get_data_info(i) for i in range(len(chunks))]
    # 13 frames -> chunks [0, 6), [6, 12) (remainder dropped); 5 and 2
    # frames have no chunk.
    assert [(i['video_name'], i['frame_range']) for i in infos] == [
        ('0_0', (0, 6)), ('0_1', (6, 12))
    ]
    training = VideoShardDataset(shards='movi_c-val-*.tar',
                                 data_root=str(tmp_path), min_frames=4)
    assert len(training) == 2


@pytest.mark.parametrize('num_workers', [8, 3])
def test_official_partial_chunks_follow_the_loader(num_workers):
    """Worker w reads shards w, w + W, ...; the loader takes
    ceil(P * W / 16) batches of 16 chunks in turn from the workers."""
    rng = np.random.default_rng(0)
    chunks = [[int(c) for c in rng.integers(0, 9, 10)] for _ in range(30)]
    selected = official_partial_chunks(chunks, val_size=200,
                                       num_workers=num_workers)
    padded = -(-30 // num_workers) * 7
    num_batches = -(-padded * num_workers // 16)
    streams = [[(s, v, c) for s in range(w, 30, num_workers)
                for v in range(10) for c in range(chunks[s][v])]
               for w in range(num_workers)]
    batches_per_worker = [
        num_batches // num_workers + (w < num_batches % num_workers)
        for w in range(num_workers)
    ]
    expected = set()
    for stream, count in zip(streams, batches_per_worker):
        expected.update(stream[:16 * count])
    assert set(selected) == expected
    if num_workers == 8:
        # VideoSAUR's YT-VIS setting: 14 batches, 224 chunks.
        assert num_batches == 14 and len(selected) == 224


def test_official_partial_chunks_score_all_of_movi_and_skip_padding():
    movi = [[1] * 32] * 7 + [[1] * 26]
    assert len(official_partial_chunks(movi, val_size=250)) == 250
    # Workers with fewer videos than the padded count (P = 13): padding
    # chunks fill batch slots but are not scored; the 7 batches come from
    # workers 0-6, so shard 7 is never scored.
    small = [[2, 2]] * 8
    selected = official_partial_chunks(small, val_size=100, batch_size=16)
    assert sorted(selected) == sorted(
        (s, v, c) for s in range(7) for v in range(2) for c in range(2))
    with pytest.raises(ValueError, match='at least one shard per worker'):
        official_partial_chunks([[1]] * 4, val_size=10, num_workers=8)


def test_dataset_official_partial_scoring(tmp_path):
    write_shards(tmp_path, [12] * 16, per_shard=2)
    kwargs = dict(shards='movi_c-val-*.tar', data_root=str(tmp_path),
                  chunk_len=3)
    everything = VideoShardDataset(**kwargs)
    partial = VideoShardDataset(
        official_partial_scoring=dict(val_size=16, num_workers=8,
                                      batch_size=3), **kwargs)
    assert len(everything) == 64
    # P = ceil(8 / 8) * ceil(16 / 8) = 2 videos of 4 chunks per worker,
    # ceil(2 * 8 / 3) = 6 batches of 3: workers 0-5 give their first 3.
    names = [partial.get_data_info(i)['video_name']
             for i in range(len(partial))]
    assert len(names) == 18
    assert names[:4] == ['0_0', '0_1', '0_2', '2_0']
    with pytest.raises(ValueError, match='needs chunk_len'):
        VideoShardDataset(shards='x', official_partial_scoring=dict(
            val_size=1))
