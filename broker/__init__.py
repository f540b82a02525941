"""Kaido: an NGSI-LD context broker on MongoDB."""

__version__ = "0.1.0"
