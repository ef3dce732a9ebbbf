"""Test support: the Delivery API emulator, hand-made sites, the golden tree, real fixtures.

Nothing here is shipped with kontent-ssg (``pyproject.toml`` lists the package's folders);
tests import it as ``tests.support.<module>``, with the repository root on ``sys.path``
(pytest puts it there; ``bench/`` scripts do it themselves).
"""
