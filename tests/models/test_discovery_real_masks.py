"""Object discovery on real DAVIS-2017 object masks (RVOS results)."""
import numpy as np
import torch

from mmsmtc.evaluation.functional import evaluate_sequence, global_statistics
from mmsmtc.models.discovery import ObjectDiscoveryPostProcessor
from mmsmtc.utils.palette import read_indexed_png

#: RVOS ids of the first frames of ``judo``: 20 objects, all present in
#: frame 0, many of them small flickering fragments.
SEQUENCE, NUM_FRAMES = 'judo', 6


def test_real_masks_with_shuffled_slots_score_perfect_j_and_f(davis_masks):
    paths = sorted(
        (davis_masks / 'rvos' / SEQUENCE).glob('*.png'))[:NUM_FRAMES]
    gt = np.stack([read_indexed_png(path)[::2, ::2] for path in paths])
    num_ids = int(gt.max()) + 1
    generator = torch.Generator().manual_seed(0)
    masks = torch.full((len(gt), num_ids, 1) + gt.shape[1:], 0.01)
    embeddings = torch.zeros(len(gt), num_ids, 1, num_ids)
    for t in range(len(gt)):
        slots = torch.cat([
            torch.zeros(1, dtype=torch.long),
            1 + torch.randperm(num_ids - 1, generator=generator)
        ])
        for obj in range(num_ids):
            masks[t, slots[obj], 0][torch.from_numpy(gt[t] == obj)] = 0.9
            embeddings[t, slots[obj], 0, obj] = 1.0
    scores = torch.full((len(gt), num_ids, 1), 0.9)
    # one mask per slot, no groups or group maps: the generic contract
    result = ObjectDiscoveryPostProcessor(min_area=0)(
        masks[:, :, 0], gt.shape[1:], scores[..., 0], embeddings[:, :, 0])
    id_maps = result.id_maps.numpy()
    assert id_maps.max() == 20
    stats = global_statistics(
        evaluate_sequence('unsupervised', SEQUENCE, list(gt), list(id_maps)))
    assert stats['J&F-Mean'] == 1.0
