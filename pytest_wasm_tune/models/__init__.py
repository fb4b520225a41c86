"""Whole models for end-to-end checks: built from code with seeded random weights (no downloads)."""

from .resnet18 import INPUT_SHAPE, NUM_CLASSES, build_resnet18, resnet18_for_compile

__all__ = ["INPUT_SHAPE", "NUM_CLASSES", "build_resnet18", "resnet18_for_compile"]
