"""Assets downloaded into the site (``[site] download_assets``): see docs/ASSETS.md.

``naming`` (where files go, dependency keys), ``fetch`` (downloads), ``cache`` (the
content-addressed cache under ``.kontent-ssg/assets/``), ``images`` (Pillow: facts and
variants), ``local`` (what rendering asks), ``stage`` (the build's asset steps).
"""
