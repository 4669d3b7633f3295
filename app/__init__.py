"""The Muster domain: models, services, access policy, configuration and the command line.

Nothing in this package knows about HTTP, GraphQL or HTML; the layers above (``schema/`` and
``views/``) call into it, never the other way round.
"""
