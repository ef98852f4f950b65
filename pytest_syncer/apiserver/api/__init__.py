"""The API semantics: what a request means for the objects, whatever protocol carried it.

Imports point one way: ``http`` calls into this package, this package calls into ``store``;
nothing here imports ``http`` or ``controllers``.
"""
