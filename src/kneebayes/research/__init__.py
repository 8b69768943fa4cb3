"""Tools for researchers who question a model's numbers.

``parameters`` lists every independent number by its address,
``with_parameters`` changes some of them (giving a new spec), and ``diff``
says which numbers two specs disagree on. Sensitivity, uncertainty from the
ranges and batch diagnosis live beside them; pandas and matplotlib load only
inside the functions that need them.
"""
