"""Collating whole videos: keep every sample as it is."""
from typing import Dict, List, Sequence

from mmsmtc.registry import FUNCTIONS


@FUNCTIONS.register_module()
def video_collate(batch: Sequence[Dict]) -> Dict[str, List]:
    """Collate test videos into lists, decoding and stacking nothing.

    Videos differ in length and size and their frames are lazy
    (:class:`~mmsmtc.datasets.lazy_sequence.LazyFrameSequence`), so a batch
    is ``dict(inputs=[B videos], data_samples=[B VideoDataSample])``.
    Use with ``collate_fn=dict(type='mmsmtc.video_collate')``: MMEngine's
    ``Runner.build_dataloader`` looks collate functions up in the root
    registry, which finds a child's function only by its scoped name.

    Args:
        batch: ``B`` packed samples (``dict(inputs=..., data_samples=...)``).

    Raises:
        KeyError: If a sample lacks ``inputs`` or ``data_samples``.
    """
    collated: Dict[str, List] = dict(inputs=[], data_samples=[])
    for position, sample in enumerate(batch):
        missing = {'inputs', 'data_samples'} - set(sample)
        if missing:
            raise KeyError(f'sample {position} of the batch lacks '
                           f'{sorted(missing)}; end the pipeline with '
                           'PackVideoInputs')
        collated['inputs'].append(sample['inputs'])
        collated['data_samples'].append(sample['data_samples'])
    return collated
