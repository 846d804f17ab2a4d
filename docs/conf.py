"""Sphinx configuration of the skimb documentation."""

import torch

import skimb

# The gallery runs in this process. One torch thread: the examples are small,
# and the timings in the gallery are then those of one core, whatever else
# runs on the machine.
torch.set_num_threads(1)

project = "skimb"
author = "the skimb developers"
copyright = "2026, the skimb developers"
release = version = skimb.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py"]
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# skorch's inherited docstrings are not numpydoc; check only skimb's own.
numpydoc_validation_checks = set()
intersphinx_mapping = {}
html_theme = "alabaster"
html_static_path = []
nitpicky = False
suppress_warnings = ["autosummary.import_cycle"]

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
}
