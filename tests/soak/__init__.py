"""Long checks, run by ``make soak`` (and CI), not by ``make test``: real kills, real faults."""
