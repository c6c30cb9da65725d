"""Code executors: ``actorgen_ext.code_executors.local`` runs code blocks as local subprocesses."""

from .local import CommandLineCodeResult

__all__ = ["CommandLineCodeResult"]
