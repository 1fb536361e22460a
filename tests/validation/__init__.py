"""Queueing-theory validation: the real model, configured into special cases with known answers."""
