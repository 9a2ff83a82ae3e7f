"""Named field transforms, found through the ``b24kit.transforms`` entry points (built-ins included)."""

from __future__ import annotations

from .base import (
    GROUP,
    NoOptions,
    Transform,
    TransformContext,
    build_transform,
    known_transforms,
    transform_class,
)

__all__ = [
    "GROUP",
    "NoOptions",
    "Transform",
    "TransformContext",
    "build_transform",
    "known_transforms",
    "transform_class",
]
