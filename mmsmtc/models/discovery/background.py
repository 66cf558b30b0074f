"""Which groups of masks (e.g. SMTC's semantic slots) are background."""
import torch

#: Rules ranking groups as background.
BACKGROUND_RULES = ('border', 'area', 'none')


def check_background_rule(rule: str, num_groups: int) -> None:
    """Raise ValueError for an unknown rule or a negative group count."""
    if rule not in BACKGROUND_RULES:
        raise ValueError(f'background_rule must be one of {BACKGROUND_RULES}'
                         f', got {rule!r}')
    if int(num_groups) != num_groups or num_groups < 0:
        raise ValueError('num_background_groups must be an integer >= 0, '
                         f'got {num_groups!r}')


def background_groups(group_border_pixels: torch.Tensor,
                      group_areas: torch.Tensor,
                      rule: str = 'border',
                      num_groups: int = 1) -> torch.Tensor:
    """Mark the ``num_groups`` top-ranked groups as background.

    ``'border'`` ranks groups by the frame-border pixels they own over the
    whole video (the scene around the objects touches the border, objects
    mostly do not); ``'area'`` by the pixels they own; ``'none'`` marks no
    group. Ties go to the lower group index. Groups that own no pixel under
    the rule are never marked.

    Args:
        group_border_pixels: ``(G,)`` border pixels of each group.
        group_areas: ``(G,)`` pixels of each group.
        rule: One of :data:`BACKGROUND_RULES`.
        num_groups: How many groups to mark.

    Returns:
        Tensor: ``(G,)`` bool, True for background groups.
    """
    check_background_rule(rule, num_groups)
    is_background = torch.zeros_like(group_areas, dtype=torch.bool)
    if rule == 'none' or num_groups == 0:
        return is_background
    counts = group_border_pixels if rule == 'border' else group_areas
    order = torch.sort(counts, descending=True, stable=True).indices
    top = order[:num_groups]
    is_background[top[counts[top] > 0]] = True
    return is_background
