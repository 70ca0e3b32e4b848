import pytest

from ..conftest import single_torch_thread

_one_torch_thread = pytest.fixture(autouse=True)(single_torch_thread)
