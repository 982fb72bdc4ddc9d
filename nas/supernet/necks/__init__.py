"""Elastic necks of the supernet. Importing this package registers every one."""

from __future__ import annotations

from nas.supernet.necks import bifpn, fpn, panet, single  # noqa: F401 - registration
from nas.supernet.necks.registry import ELASTIC_NECKS, ElasticNeck, build_elastic_neck, register_elastic_neck

__all__ = ["ELASTIC_NECKS", "ElasticNeck", "build_elastic_neck", "register_elastic_neck"]
