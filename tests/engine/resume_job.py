"""A tiny training job for the resume test, run in a subprocess.

Usage: ``python resume_job.py WORK_DIR LOSS_LOG [--kill-after N] [--resume]``.
The model draws random noise in every step (like SMTC's instance slots), so
the losses only match an uninterrupted run when the generators are restored.
"""
import argparse
import json
import os
import signal

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmsmtc.engine import VideoRunner
from mmsmtc.utils import register_all_modules


class NoisyRegression(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, inputs, mode='loss'):
        noise = torch.randn_like(inputs) * 0.1
        return dict(loss=(self.linear(inputs + noise) - 1).pow(2).mean())


class Ramp(Dataset):

    def __len__(self):
        return 10

    def __getitem__(self, index):
        return dict(inputs=torch.full((4, ), float(index) / 10))


class RecordAndKill(Hook):
    priority = 'LOWEST'

    def __init__(self, log_path, kill_after):
        self.log_path = log_path
        self.kill_after = kill_after

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        with open(self.log_path, 'a') as log:
            log.write(json.dumps([runner.iter, outputs['loss'].item()]) + '\n')
        if runner.iter == self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('work_dir')
    parser.add_argument('loss_log')
    parser.add_argument('--kill-after', type=int, default=-1)
    parser.add_argument('--resume', action='store_true')
    args = parser.parse_args()
    register_all_modules()
    torch.manual_seed(0)  # the model is built before the runner seeds
    runner = VideoRunner(
        model=NoisyRegression(),
        work_dir=args.work_dir,
        train_dataloader=dict(
            dataset=Ramp(),
            sampler=dict(type='InfiniteSampler', shuffle=True),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        param_scheduler=dict(
            type='CosineAnnealingLR', T_max=8, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=8),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=3)),
        custom_hooks=[
            dict(type='RNGStateHook'),
            RecordAndKill(args.loss_log, args.kill_after)
        ],
        resume=args.resume,
        randomness=dict(seed=3, deterministic=True),
        default_scope='mmsmtc')
    runner.train()


if __name__ == '__main__':
    main()
