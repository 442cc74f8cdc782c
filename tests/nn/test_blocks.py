from __future__ import annotations

import pytest
import torch

from bioscope.errors import InputError
from bioscope.nn.blocks import Dropout


def test_dropout_keeps_1_minus_p_and_rescales():
    torch.manual_seed(0)
    drop = Dropout(0.2).train()
    x = torch.ones(200_000, requires_grad=True)
    y = drop(x)
    kept = y != 0
    assert float(kept.float().mean()) == pytest.approx(0.8, abs=0.005)
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.8))
    assert abs(float(y.detach().mean()) - 1) < 0.01  # unbiased
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # gradient = mask / (1 - p)


def test_dropout_is_the_identity_in_eval_and_at_zero():
    x = torch.randn(4, 3)
    assert Dropout(0.3).eval()(x) is x
    assert Dropout(0.0).train()(x) is x
    with pytest.raises(InputError, match="dropout probability"):
        Dropout(1.0)
