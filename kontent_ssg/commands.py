"""One function per CLI command: glue between parsed arguments and the pipeline modules."""

from __future__ import annotations

import argparse

from .config import Config

__all__ = ["build", "check", "pull", "serve", "webhook"]


def pull(config: Config, args: argparse.Namespace) -> int:
    raise NotImplementedError("pull: delivery helper")


def build(config: Config, args: argparse.Namespace) -> int:
    raise NotImplementedError("build: builder helper")


def check(config: Config, args: argparse.Namespace) -> int:
    raise NotImplementedError("check: builder helper")


def serve(config: Config, args: argparse.Namespace) -> int:
    raise NotImplementedError("serve: server helper")


def webhook(config: Config, args: argparse.Namespace) -> int:
    raise NotImplementedError("webhook: server helper")
