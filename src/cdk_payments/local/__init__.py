"""`cdk-payments local`: a synthesized app deployed into a local AWS emulator (moto, on 127.0.0.1).

Needs the ``local`` extra (``pip install 'cdk-payments[local]'``): moto stays out of the library's
runtime dependencies. Used by the deploy rehearsal too, so what a user runs is what is tested.
"""
