"""The base of every test-time video dataset: one whole video per sample."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset

from mmsmtc.registry import DATASETS
from .video_listing import list_frame_files, read_sequence_list

ANNOTATION_COVERAGES = ('all', 'first', 'some')


@DATASETS.register_module()
class VideoSegmentationDataset(BaseDataset):
    """Videos in a DAVIS-like layout, one whole video per sample.

    Layout (``data_prefix`` names the two folders under ``data_root``)::

        <data_root>/<data_prefix.img>/<video>/<frame>.jpg
        <data_root>/<data_prefix.ann>/<video>/<frame>.png   (indexed PNGs)

    Nothing is decoded when the dataset is built: a sample's ``data_info``
    holds file paths, and the loading transforms wrap them in lazy
    sequences (:mod:`mmsmtc.datasets.lazy_sequence`). Frames keep their
    original size and file names. Annotations are matched to frames by file
    stem, so benchmarks that annotate only some frames (FBMS-59, VIP) are
    read as they are.

    Args:
        data_root: The dataset folder.
        ann_file: Sequence list relative to ``data_root`` (see
            :func:`mmsmtc.datasets.video_listing.read_sequence_list`); empty
            means every sub-folder of the frame folder.
        sequences: Explicit sequence names; overrides ``ann_file``.
        data_prefix: ``dict(img=..., ann=...)`` frame and annotation
            folders relative to ``data_root``.
        annotation_coverage: Which frames must be annotated: ``'all'``
            (DAVIS, SegTrack-v2), ``'first'`` (frame 0 at least) or
            ``'some'`` (at least one frame).
        binarize: Whether masks are single-object (every non-zero id
            becomes 1), for DAVIS-2016, SegTrack-v2 and FBMS-59 J.
        max_size_gap: Largest mask/frame size difference repaired by
            cropping/zero-padding, in pixels; see
            :func:`mmsmtc.datasets.frame_io.fit_mask_to_frame`.
        frame_suffixes: File suffixes of frames.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``indices``, ...). ``test_mode`` defaults to True
            and ``serialize_data`` to False (a few dozen videos gain
            nothing from it, and it costs a full garbage collection).

    Each ``data_info`` holds ``video_name`` (str), ``frame_paths`` and
    ``frame_names`` (T each), ``mask_paths`` and ``mask_frame_indices``
    (T_a each), ``binarize_masks`` and ``max_size_gap``.

    Raises:
        FileNotFoundError: A listed sequence, its annotation folder or the
            sequence list does not exist.
        ValueError: A sequence is empty, an annotation has no frame of the
            same name, or frames that ``annotation_coverage`` requires are
            not annotated.
    """

    METAINFO: Dict = dict(dataset_name='video folder')

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
                 sequences: Optional[Sequence[str]] = None,
                 data_prefix: Optional[Dict[str, str]] = None,
                 annotation_coverage: str = 'all',
                 binarize: bool = False,
                 max_size_gap: int = 2,
                 frame_suffixes: Sequence[str] = ('.jpg', '.jpeg'),
                 **kwargs) -> None:
        if annotation_coverage not in ANNOTATION_COVERAGES:
            raise ValueError(
                f'annotation_coverage must be one of {ANNOTATION_COVERAGES}, '
                f'got {annotation_coverage!r}')
        self.sequences = list(sequences) if sequences is not None else None
        self.annotation_coverage = annotation_coverage
        self.binarize = binarize
        self.max_size_gap = max_size_gap
        self.frame_suffixes = tuple(frame_suffixes)
        kwargs.setdefault('test_mode', True)
        kwargs.setdefault('serialize_data', False)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix
            or dict(img='JPEGImages', ann='Annotations'),
            **kwargs)

    def sequence_names(self) -> List[str]:
        """The sequences of the split, in order."""
        if self.sequences is not None:
            return self.sequences
        if self.ann_file:
            return read_sequence_list(self.ann_file)
        frame_root = Path(self.data_prefix['img'])
        if not frame_root.is_dir():
            raise FileNotFoundError(
                f'{frame_root}: frame folder does not exist')
        return sorted(path.name for path in frame_root.iterdir()
                      if path.is_dir())

    def load_data_list(self) -> List[dict]:
        """List every sequence's frames and annotations (no decoding)."""
        return [
            self.load_video_info(name, *self.video_dirs(name))
            for name in self.sequence_names()
        ]

    def video_dirs(self, name: str) -> Tuple[Path, Path]:
        """The frame and annotation folders of sequence ``name``."""
        return (Path(self.data_prefix['img']) / name,
                Path(self.data_prefix['ann']) / name)

    def load_video_info(self, name: str, frame_dir: Path,
                        mask_dir: Path) -> dict:
        """The ``data_info`` of one video (see the class docstring)."""
        frame_paths = list_frame_files(frame_dir, self.frame_suffixes)
        frame_names = [path.stem for path in frame_paths]
        if not mask_dir.is_dir():
            raise FileNotFoundError(
                f'{mask_dir}: missing annotations of sequence {name!r}')
        mask_paths = [path for path in mask_dir.iterdir()
                      if path.suffix.lower() == '.png']
        if not mask_paths:
            raise ValueError(f'{mask_dir}: missing annotations of sequence '
                             f'{name!r}, the folder holds no PNG')
        positions = {stem: index for index, stem in enumerate(frame_names)}
        orphans = [path.name for path in mask_paths
                   if path.stem not in positions]
        if orphans:
            raise ValueError(
                f'{mask_dir}: annotations {orphans[:5]} have no frame of the '
                f'same name in {frame_dir}')
        mask_paths.sort(key=lambda path: positions[path.stem])
        mask_frame_indices = [positions[path.stem] for path in mask_paths]
        self._check_coverage(frame_dir, mask_dir, frame_names,
                             set(mask_frame_indices))
        return dict(
            video_name=name,
            frame_paths=[str(path) for path in frame_paths],
            frame_names=frame_names,
            mask_paths=[str(path) for path in mask_paths],
            mask_frame_indices=mask_frame_indices,
            binarize_masks=self.binarize,
            max_size_gap=self.max_size_gap)

    def _check_coverage(self, frame_dir: Path, mask_dir: Path,
                        frame_names: List[str], annotated: set) -> None:
        if self.annotation_coverage == 'all':
            missing = [stem for index, stem in enumerate(frame_names)
                       if index not in annotated]
            if missing:
                raise ValueError(
                    f'{mask_dir}: missing annotations for {len(missing)} '
                    f'frames of {frame_dir} (e.g. {missing[:5]}); this '
                    'benchmark annotates every frame')
        elif self.annotation_coverage == 'first' and 0 not in annotated:
            raise ValueError(
                f'{mask_dir}: missing annotation of the first frame '
                f'{frame_names[0]!r}')
