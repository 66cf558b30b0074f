"""Reading webdataset shards (``.tar``) of ``.npy`` arrays without webdataset.

VideoSAUR's data (MOVi, YT-VIS, COCO) comes as tar shards whose members are
``<key>.<field>.npy``: one sample per ``key``, one array per field (``video``,
``segmentations``, ``image``, ...). As in webdataset, the key is the member
path up to the first dot of its file name and the members of a sample are
consecutive. The shards are uncompressed tars, so a member is a byte range of
the file: :func:`list_shard_samples` records those ranges once and
:func:`read_npy_member` reads one array, or only some of its leading rows
(frames), straight from the file.

Every malformed shard raises :class:`ShardFormatError` naming the shard and
the member.
"""
import glob
import io
import os
import re
import tarfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, Path]
_BRACE_RANGE = re.compile(r'\{(\d+)\.\.(\d+)\}')


class ShardFormatError(ValueError):
    """A shard or one of its members is not what VideoSAUR's data holds."""


class MemberRange(NamedTuple):
    """Where a member's bytes are in its shard file."""
    offset: int
    size: int


class ShardSample(NamedTuple):
    """One sample of a shard: its key and its ``.npy`` fields.

    Attributes:
        shard: The shard file.
        key: The sample key (``__key__`` in webdataset).
        fields: ``{field: MemberRange}``, e.g. ``'video'`` for the member
            ``<key>.video.npy``.
    """
    shard: str
    key: str
    fields: Dict[str, MemberRange]

    def member_name(self, field: str) -> str:
        """The tar member name of ``field``."""
        return f'{self.key}.{field}.npy'


def expand_shard_pattern(pattern: str, data_root: PathLike = '') -> List[str]:
    """The shard files of a pattern, sorted.

    Args:
        pattern: A path relative to ``data_root`` (or absolute) with at most
            one webdataset brace range, ``movi_c-train-{000000..000304}.tar``
            (every file must exist), or glob wildcards,
            ``movi_c-train-*.tar``.
        data_root: Prefix of relative patterns.

    Raises:
        FileNotFoundError: Naming the missing files of a brace range, or the
            pattern when nothing matches.
        ValueError: If the pattern has more than one brace range.
    """
    full = os.path.join(str(data_root), pattern)
    ranges = _BRACE_RANGE.findall(full)
    if len(ranges) > 1:
        raise ValueError(f'{pattern}: at most one {{a..b}} range is supported')
    if ranges:
        low, high = ranges[0]
        width = len(low)
        paths = [
            _BRACE_RANGE.sub(f'{index:0{width}d}', full)
            for index in range(int(low), int(high) + 1)
        ]
        missing = [path for path in paths if not os.path.isfile(path)]
        if missing:
            raise FileNotFoundError(
                f'{full}: {len(missing)} of {len(paths)} shards are missing, '
                f'e.g. {missing[:3]}')
        return paths
    paths = sorted(glob.glob(full))
    if not paths:
        raise FileNotFoundError(f'{full}: no shard matches')
    return paths


def _split_member_name(shard: str, name: str) -> Tuple[str, str]:
    """``'<key>.<field>.npy'`` -> ``(key, field)`` (webdataset's rule)."""
    directory, base = os.path.split(name)
    if '.' not in base:
        raise ShardFormatError(f'{shard}: member {name!r} has no extension '
                               '(expected <key>.<field>.npy)')
    stem, extension = base.split('.', 1)
    if not extension.endswith('.npy') or extension == '.npy' or not stem:
        raise ShardFormatError(f'{shard}: member {name!r} is not '
                               '<key>.<field>.npy')
    return os.path.join(directory, stem), extension[:-len('.npy')]


def list_shard_samples(shard: PathLike) -> List[ShardSample]:
    """The samples of one shard, in file order.

    Raises:
        ShardFormatError: If the file is not an uncompressed tar, is
            truncated, has a member that is not ``<key>.<field>.npy``, a
            field twice in a sample, or a sample whose members are not
            consecutive.
    """
    shard = str(shard)
    samples: List[ShardSample] = []
    seen = set()
    file_size = os.path.getsize(shard)
    try:
        with tarfile.open(shard, mode='r:') as archive:
            for member in archive:
                if not member.isfile():
                    continue
                key, field = _split_member_name(shard, member.name)
                if not samples or samples[-1].key != key:
                    if key in seen:
                        raise ShardFormatError(
                            f'{shard}: the members of sample {key!r} are not '
                            f'consecutive (member {member.name!r})')
                    seen.add(key)
                    samples.append(ShardSample(shard, key, {}))
                if member.offset_data + member.size > file_size:
                    raise ShardFormatError(
                        f'{shard}: member {member.name!r} is truncated (the '
                        'file ends inside it)')
                if field in samples[-1].fields:
                    raise ShardFormatError(
                        f'{shard}: member {member.name!r} appears twice')
                samples[-1].fields[field] = MemberRange(
                    member.offset_data, member.size)
            end = archive.offset
    except tarfile.ReadError as error:
        raise ShardFormatError(f'{shard}: not a readable uncompressed tar '
                               f'({error})') from error
    _check_end_of_archive(shard, end, samples)
    return samples


def _check_end_of_archive(shard: str, end: int,
                          samples: List[ShardSample]) -> None:
    """After the last member a tar holds only zero blocks (at least two);
    anything else is a truncated or corrupt member header, which
    ``tarfile`` takes for the end of the archive."""
    last = f'after sample {samples[-1].key!r}' if samples else 'at the start'
    with open(shard, 'rb') as file:
        file.seek(end)
        zeros = 0
        for block in iter(lambda: file.read(1 << 16), b''):
            if block.count(0) != len(block):
                raise ShardFormatError(
                    f'{shard}: unreadable data {last} (a truncated or corrupt '
                    'member header)')
            zeros += len(block)
    if zeros < 2 * tarfile.BLOCKSIZE:
        raise ShardFormatError(f'{shard}: truncated {last} (no end-of-archive '
                               'blocks)')


class NpyHeader(NamedTuple):
    """The header of a ``.npy`` member."""
    shape: Tuple[int, ...]
    dtype: np.dtype
    data_offset: int


def _read_header(file, sample: ShardSample, field: str) -> NpyHeader:
    """Parse the ``.npy`` header of ``field`` (``file`` positioned at its
    first byte)."""
    where = f'{sample.shard}: member {sample.member_name(field)!r}'
    member = sample.fields[field]
    start = file.tell()
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
    except ValueError as error:
        raise ShardFormatError(f'{where}: not a .npy array ({error})') \
            from error
    if fortran and len(shape) > 1:
        raise ShardFormatError(f'{where}: Fortran-ordered arrays are not '
                               'supported')
    if dtype.hasobject:
        raise ShardFormatError(f'{where}: object arrays are not supported')
    header_size = file.tell() - start
    expected = header_size + int(np.prod(shape)) * dtype.itemsize
    if expected != member.size:
        raise ShardFormatError(
            f'{where}: {member.size} bytes but a {dtype} array of shape '
            f'{shape} needs {expected} (truncated or corrupt)')
    return NpyHeader(tuple(shape), dtype, member.offset + header_size)


def _require_field(sample: ShardSample, field: str) -> None:
    if field not in sample.fields:
        raise ShardFormatError(
            f'{sample.shard}: sample {sample.key!r} has no member '
            f'{sample.member_name(field)!r} (it has {sorted(sample.fields)})')


def read_npy_header(sample: ShardSample, field: str) -> NpyHeader:
    """Shape and dtype of a field, reading only its header.

    Raises:
        ShardFormatError: If the member is missing or not a matching
            ``.npy`` array.
    """
    _require_field(sample, field)
    with open(sample.shard, 'rb') as file:
        file.seek(sample.fields[field].offset)
        return _read_header(file, sample, field)


def read_npy_member(sample: ShardSample,
                    field: str,
                    rows: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Read a field's array, or its rows ``[start, stop)`` along axis 0.

    Args:
        sample: A sample of :func:`list_shard_samples`.
        field: E.g. ``'video'``.
        rows: Optional ``(start, stop)`` leading-axis range (frames); only
            those bytes are read.

    Returns:
        np.ndarray: A writable array.

    Raises:
        ShardFormatError: If the member is missing or malformed, or the
            rows are out of range.
    """
    _require_field(sample, field)
    with open(sample.shard, 'rb') as file:
        file.seek(sample.fields[field].offset)
        header = _read_header(file, sample, field)
        shape = header.shape
        if rows is not None:
            start, stop = rows
            if not shape or not 0 <= start <= stop <= shape[0]:
                raise ShardFormatError(
                    f'{sample.shard}: member {sample.member_name(field)!r} '
                    f'of shape {shape} has no rows [{start}, {stop})')
            row_bytes = int(np.prod(shape[1:])) * header.dtype.itemsize
            file.seek(header.data_offset + start * row_bytes)
            shape = (stop - start, ) + shape[1:]
        count = int(np.prod(shape))
        data = file.read(count * header.dtype.itemsize)
    if len(data) != count * header.dtype.itemsize:
        raise ShardFormatError(f'{sample.shard}: member '
                               f'{sample.member_name(field)!r} is truncated')
    return np.frombuffer(data, dtype=header.dtype).reshape(shape).copy()


def index_shards(shards: Sequence[PathLike]) -> List[ShardSample]:
    """The samples of several shards, in order; keys must be unique.

    Raises:
        ShardFormatError: As :func:`list_shard_samples`, or if a key
            appears in two shards.
    """
    samples, owner = [], {}
    for shard in shards:
        for sample in list_shard_samples(shard):
            if sample.key in owner:
                raise ShardFormatError(
                    f'{sample.shard}: sample key {sample.key!r} is also in '
                    f'{owner[sample.key]}')
            owner[sample.key] = sample.shard
            samples.append(sample)
    return samples


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


class ShardWriter:
    """Write samples into numbered shards of at most ``max_count`` samples,
    the layout of webdataset's ``ShardWriter`` (``pattern % index`` from 0).

    Members are ``<key>.<field>.npy`` with fixed metadata (mtime 0, mode
    0o644), so equal inputs give byte-identical shards.

    Args:
        pattern: E.g. ``'out/ytvis-train-%06d.tar'``.
        max_count: Samples per shard.

    Use as a context manager; :attr:`paths` lists the shards written.
    """

    def __init__(self, pattern: str, max_count: int) -> None:
        if max_count < 1:
            raise ValueError(f'max_count must be >= 1, got {max_count}')
        self.pattern = pattern
        self.max_count = max_count
        self.paths: List[str] = []
        self._archive: Optional[tarfile.TarFile] = None
        self._count = 0

    def write(self, key: str, fields: Dict[str, np.ndarray]) -> None:
        """Add one sample (``fields``: ``{field: array}``)."""
        if '.' in os.path.basename(key) or not key:
            raise ValueError(f'sample key {key!r} must be non-empty and have '
                             'no dot in its name')
        if self._archive is None or self._count == self.max_count:
            self._open_next()
        for field, array in fields.items():
            data = _npy_bytes(array)
            info = tarfile.TarInfo(f'{key}.{field}.npy')
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            self._archive.addfile(info, io.BytesIO(data))
        self._count += 1

    def _open_next(self) -> None:
        self.close()
        path = self.pattern % len(self.paths)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._archive = tarfile.open(path, mode='w', format=tarfile.GNU_FORMAT)
        self.paths.append(path)
        self._count = 0

    def close(self) -> None:
        """Finish the current shard."""
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def __enter__(self) -> 'ShardWriter':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
