"""The Kontent.ai Management API v2: the client, the site's webhook, importing a snapshot.

Not part of the build pipeline: these are chores around it (``kontent-ssg webhooks`` and
``kontent-ssg import``). The facts about the API this package relies on, with their sources,
are in docs/MANAGEMENT.md.
"""
