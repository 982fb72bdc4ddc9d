"""Weight-sharing supernet: every architecture of a search space in one set of weights.

:class:`Supernet` (a DensePose R-CNN) holds the elastic backbone, one elastic neck per
variant and shared heads; ``activate(arch)`` selects a sub-network and ``extract(arch)``
gives its weights for the stand-alone model :func:`nas.model.rcnn.build_densepose_rcnn`
builds. Modules: ``elastic`` (sliceable layers), ``envelope`` (what a space asks of each
layer), ``blocks`` and ``necks`` (elastic registries), ``backbone``, ``features``,
``rcnn`` (heads), ``membership`` (is an architecture in the space).
"""

from __future__ import annotations

from nas.errors import SupernetError
from nas.supernet.features import ElasticFeatureNetwork
from nas.supernet.membership import require_in_space
from nas.supernet.supernet import Supernet

__all__ = ["ElasticFeatureNetwork", "Supernet", "SupernetError", "require_in_space"]
