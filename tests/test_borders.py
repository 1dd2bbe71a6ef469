"""The mirrored margin around each unit (stdit_cli.pipeline.borders)."""

import pytest
import torch
import torch.nn.functional as F

from stdit_cli.pipeline.adapters import ADAPTERS
from stdit_cli.pipeline.borders import EdgeMargin, margins


@pytest.mark.parametrize("size", [1, 5, 17, 23, 272, 480, 854, 1080])
@pytest.mark.parametrize("multiple, phase", [(1, 1), (8, 1), (8, 2), (16, 4)])
def test_margins_cover_the_margin_keep_the_stem_blocks_and_round_to_the_multiple(size, multiple, phase):
    before, after = margins(size, multiple, 2, phase)
    assert before >= 2 and after >= 2
    assert before % phase == 0  # the stem packs the same pixel blocks as without the margin
    assert (size + before + after) % multiple == 0
    assert before + after < 2 + 2 + multiple + phase  # about one multiple beyond the margin at most


def test_margins_split_evenly_where_the_stem_allows():
    assert margins(272, 8, 2, 2) == (4, 4) and margins(640, 8, 2, 2) == (4, 4)
    assert margins(854, 8, 2, 2) == (4, 6)  # 5 before would regroup every 2x2 block
    assert margins(854, 8, 2, 1) == (5, 5)


def test_no_margin_is_a_no_op():
    units = torch.rand(2, 3, 5, 9, 11)
    padded, inside = EdgeMargin(0, 8).pad(units)
    assert padded is units and torch.equal(EdgeMargin.crop(padded, inside), units)


def test_pad_mirrors_outwards_and_crop_gives_the_unit_back():
    units = torch.rand(2, 3, 5, 17, 23)
    edge = EdgeMargin(2, 8, phase=1)
    padded, (rows, cols) = edge.pad(units)
    assert padded.shape == (2, 3, 5, 24, 32)
    assert torch.equal(EdgeMargin.crop(padded, (rows, cols)), units)
    # reflect without repeating the border pixel: the row above row 0 is row 1
    assert torch.equal(padded[..., rows.start - 1, cols], units[..., 1, :])
    assert torch.equal(padded[..., rows, cols.stop], units[..., :, -2])


def test_tiny_frames_are_replicated():
    units = torch.rand(1, 3, 2, 1, 3)
    padded, inside = EdgeMargin(2, 8).pad(units)
    assert padded.shape[-2:] == (8, 8)
    assert torch.equal(EdgeMargin.crop(padded, inside), units)
    assert torch.equal(padded[..., 0, 2:5], units[..., 0, :])  # rows replicated


def test_a_zero_padded_filter_keeps_a_flat_field_flat_only_with_the_margin():
    """The reason for the margin: a zero-padded 3x3 mean darkens the border of a flat field."""
    flat = torch.full((1, 3, 2, 12, 16), 0.5)

    def box(units):
        lead = units.shape[:-2]
        # [N, C, T, h, w] -> [N*C*T, 1, h, w] -> 3x3 mean with zero padding -> back
        flat_2d = units.reshape(-1, 1, *units.shape[-2:])
        return F.avg_pool2d(flat_2d, 3, stride=1, padding=1, count_include_pad=True).reshape(*lead, *units.shape[-2:])

    plain = box(flat)
    assert plain[..., 0, 0].max() < 0.3  # the corner saw 5 zeros of 9
    edge = EdgeMargin(2, 8)
    padded, inside = edge.pad(flat)
    assert torch.allclose(edge.crop(box(padded), inside), flat)


def test_for_model_reads_the_stem_and_the_multiple():
    from stdit_cli.models import UNetSTIC
    from stdit_cli.presets import load_preset

    model = UNetSTIC(**load_preset("unet", "halfres-wide"))
    edge = EdgeMargin.for_model(2, model)
    assert (edge.multiple, edge.phase) == (model.spatial_multiple, 2)


def test_conv_backbones_get_a_margin_and_the_transformers_do_not():
    # a transformer (a token grid) sees absolute positions: mirrored borders would move them
    for name, adapter in ADAPTERS.items():
        assert (adapter.edge_margin >= 2) == (adapter.token_grid is None), name
