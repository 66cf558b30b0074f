"""Which semantic slots of a video are background."""
import torch

#: Rules ranking semantic slots as background.
BACKGROUND_RULES = ('border', 'area', 'none')


def check_background_rule(rule: str, num_slots: int) -> None:
    """Raise ValueError for an unknown rule or a negative slot count."""
    if rule not in BACKGROUND_RULES:
        raise ValueError(f'background_rule must be one of {BACKGROUND_RULES}'
                         f', got {rule!r}')
    if int(num_slots) != num_slots or num_slots < 0:
        raise ValueError('num_background_slots must be an integer >= 0, got '
                         f'{num_slots!r}')


def background_slots(slot_border_pixels: torch.Tensor,
                     slot_areas: torch.Tensor,
                     rule: str = 'border',
                     num_slots: int = 1) -> torch.Tensor:
    """Mark the ``num_slots`` top-ranked semantic slots as background.

    ``'border'`` ranks slots by the frame-border pixels they own over the
    whole video (the scene around the objects touches the border, objects
    mostly do not); ``'area'`` by the pixels they own; ``'none'`` marks no
    slot. Ties go to the lower slot index. Slots that own no pixel under
    the rule are never marked.

    Args:
        slot_border_pixels: ``(S,)`` border pixels of each slot.
        slot_areas: ``(S,)`` pixels of each slot.
        rule: One of :data:`BACKGROUND_RULES`.
        num_slots: How many slots to mark.

    Returns:
        Tensor: ``(S,)`` bool, True for background slots.
    """
    check_background_rule(rule, num_slots)
    is_background = torch.zeros_like(slot_areas, dtype=torch.bool)
    if rule == 'none' or num_slots == 0:
        return is_background
    counts = slot_border_pixels if rule == 'border' else slot_areas
    order = torch.sort(counts, descending=True, stable=True).indices
    top = order[:num_slots]
    is_background[top[counts[top] > 0]] = True
    return is_background
