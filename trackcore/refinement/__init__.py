"""Refinement: what happens to every family's track candidates after building, by helix fits.

>>> from trackcore.refinement import HelixRefinement
>>> tracks = HelixRefinement()(tracks, pos, hit_id)  # clean, merge and extend with a helix fit
"""

from trackcore.refinement.follow import StripFollowing
from trackcore.refinement.holes import LayerTable
from trackcore.refinement.refine import HelixFits, HelixRefinement, fit_helices

__all__ = ["HelixFits", "HelixRefinement", "LayerTable", "StripFollowing", "fit_helices"]
