"""Slot decoders of VideoSAUR / DINOSAUR: slots -> per-patch outputs and
per-slot masks."""
from .mlp_decoder import PatchMLPDecoder
from .slot_mixer_decoder import SlotMixerDecoder

__all__ = ['PatchMLPDecoder', 'SlotMixerDecoder']
