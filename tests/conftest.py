"""Fixtures shared by every test folder."""

import pytest
import torch


@pytest.fixture()
def one_torch_thread():
    """One torch thread: on a shared 2-core machine, two OpenMP threads contend badly."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
