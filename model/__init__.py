"""statusguard's shipped lifecycle models, one lifecycle per module.

Installed as the package ``statusguard_models``; also loadable by path
(``statusguard check model/``).
"""
