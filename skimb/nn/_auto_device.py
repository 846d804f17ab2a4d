"""``device="auto"``: CUDA when it is there, "auto" in the parameters."""

import torch


def resolve_device(device):
    """The torch device ``device`` names; ``"auto"`` is CUDA if available."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class AutoDeviceMixin:
    """Resolve a skorch net's ``device="auto"`` where skorch reads it.

    The user's value stays in ``__dict__`` (so ``get_params`` and ``clone``
    see it); skorch reads the resolved device through the ``device``
    property. A pickle stores the resolved device, which skorch maps to what
    the loading machine has, and restores ``"auto"``.
    """

    @property
    def device(self):
        return resolve_device(self.__dict__["device"])

    @device.setter
    def device(self, value):
        self.__dict__["device"] = value

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__["device"]
        return params

    def __getstate__(self):
        state = super().__getstate__()
        state["_requested_device"] = state["device"]
        state["device"] = self.device  # skorch maps it to what the loader has
        return state

    def __setstate__(self, state):
        requested = state.pop("_requested_device", None)
        super().__setstate__(state)
        if requested == "auto":
            self.__dict__["device"] = "auto"
